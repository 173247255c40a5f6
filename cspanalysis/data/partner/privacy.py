"""Pseudonymising person identifiers with a secret salt (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

from cspanalysis.errors import InputError


def pseudonymise(ids: pd.Series, salt: str) -> pd.Series:
    """Replace identifiers by their HMAC-SHA256 with a secret ``salt`` (hex digests).

    The same identifier and salt always give the same pseudonym, so a person's
    repeat appearances can be counted without their identifier being kept; a
    different salt gives unrelated pseudonyms. The text is hashed exactly as
    given (UTF-8); :func:`read_partner` strips surrounding spaces first. NA
    stays NA.

    Parameters
    ----------
    ids
        Identifiers (converted to text).
    salt
        The secret key; keep it out of the repository (e.g. in the environment
        variable named by the parameter file's ``privacy.salt_env``).

    Returns
    -------
    Series
        64-character lower-case hex digests (``string`` dtype), same index and name.

    Examples
    --------
    >>> import pandas as pd
    >>> pseudonymise(pd.Series(["A123", None, "A123"]), salt="s3cret").str.slice(0, 12).tolist()
    ['81490eea7f3f', <NA>, '81490eea7f3f']
    """
    if not isinstance(salt, str) or not salt:
        raise InputError(
            "the salt for pseudonymising person identifiers is empty; set a secret salt "
            "(the parameter file's privacy.salt_env names the environment variable holding it)"
        )
    text = pd.Series(ids).astype("string")
    key = salt.encode("utf-8")
    digests = {
        value: hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
        for value in text.dropna().unique()
    }
    return text.map(digests).astype("string")
