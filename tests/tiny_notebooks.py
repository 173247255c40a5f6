"""Tiny notebooks with the project's parameters cell, for testing notebook runners."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: Path, body: str | None) -> Path:
    """A notebook: a ``parameters`` cell (params_file, data_root, output_dir), then ``body``.

    ``body=None`` gives the parameters cell alone (an empty run, e.g. for benchmarks).
    """
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('params_file = ""\ndata_root = ""\noutput_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] if body is None else [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path
