"""Where data comes from: police.uk street files, partner datasets, ONS geography, the demo.

The loaders return the three frames described in :mod:`cspanalysis.data.schema`;
:func:`cspanalysis.load_partnership` puts them together for one partnership.
"""
