"""The case manifest: one row per case, naming the files a per-case step reads.

A manifest is a CSV file (or a DataFrame) with an id column (``case_id``, or
``slide_id`` for slides) and one column per input file, plus per-case options.
What those columns are is the command's business, not the manifest's: the
radiomics command requires ``image`` and ``mask`` (optionally ``organ_mask``,
``label``, PET fields...), the slides command ``slide_id,path`` (optionally
``patient_id``, ``mpp``). Relative paths are read relative to the manifest's
own folder, so a study folder can be moved or shared as a whole.

:func:`check_manifest` is the one checker for this kind of input: it collects
*every* problem (missing columns, blank or duplicate ids, missing files) and
raises one :class:`ManifestError` that lists them with their row numbers and
the fix, instead of stopping at the first.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

__all__ = ["ManifestError", "check_manifest", "read_manifest"]


class ManifestError(ValueError):
    """A case manifest has missing columns, bad case ids or missing files.

    ``problems`` holds one line per problem (the same lines as the message).
    """

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems = list(problems)


def _row_number(index: int) -> int:
    """Row number as a spreadsheet shows it: the header is row 1, data start at 2."""
    return int(index) + 2


def read_manifest(path: str | os.PathLike) -> pd.DataFrame:
    """Read a manifest CSV with every column as text (case ids like ``007`` stay intact).

    Blank cells become ``NaN`` so optional columns can be left empty per case.

    Raises
    ------
    ManifestError
        The file is missing, a folder, unreadable, not UTF-8 text, empty, or
        not parseable as CSV (the message names the file and the fix).
    """
    path = Path(path)
    if path.is_dir():
        raise ManifestError(f"manifest '{path}' is a folder; give the path of a CSV file with "
                            "one row per case.")
    if not path.is_file():
        raise ManifestError(
            f"manifest file '{path}' does not exist; give the path of a CSV file with one "
            "row per case."
        )
    fix = "save it as a UTF-8 CSV file with a header row (case_id,...) and one row per case"
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           encoding="utf-8-sig", encoding_errors="strict")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise ManifestError(f"manifest '{path}' is not UTF-8 text (byte {exc.start}); check that "
                            f"it is the right file, or {fix}.") from exc
    except pd.errors.EmptyDataError as exc:
        raise ManifestError(f"manifest '{path}' is empty; {fix}.") from exc
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split()).replace("Error tokenizing data. ", "")
        raise ManifestError(f"manifest '{path}' cannot be read as CSV ({detail}); check its "
                            f"quotes and separators, or {fix}.") from exc
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest '{path}' ({exc.strerror or exc}); check "
                            "its permissions.") from exc


def check_manifest(
    manifest,
    *,
    required: Sequence[str] = (),
    file_columns: Sequence[str] = (),
    id_column: str = "case_id",
    base_dir: str | os.PathLike | None = None,
    missing_files: str = "raise",
    path_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Check a case manifest and return it with absolute file paths.

    Parameters
    ----------
    manifest : str, path or pandas.DataFrame
        A CSV file (read with :func:`read_manifest`) or a DataFrame, one row per case.
    required : sequence of str, default ()
        Columns that must be present and non-blank in every row (for
        radiomics ``("image", "mask")``). The id column is always required.
    file_columns : sequence of str, default ()
        Columns holding file paths. Those present are resolved against
        ``base_dir`` and checked for existence; a blank cell in an optional
        file column means "no file for this case".
    id_column : str, default "case_id"
        The column that names each case (``"slide_id"`` for a slide manifest);
        its values must be unique and non-blank, and are kept as text.
    base_dir : str or path, optional
        Folder that relative paths are relative to. Defaults to the manifest
        file's folder, or the current folder for a DataFrame.
    missing_files : {"raise", "keep"}, default "raise"
        ``"raise"``: a path that does not exist is a problem like the others.
        ``"keep"``: rows with missing files are kept (the cohort runner then
        records those cases as failed at stage ``"read"`` and runs the rest);
        only structural problems raise. If *every* case misses a file this
        still raises, since the paths or ``base_dir`` are then most likely wrong.
    path_columns : sequence of str, optional
        Former name of ``file_columns`` (deprecated).

    Returns
    -------
    pandas.DataFrame
        A copy with the id column as text, file columns as absolute paths
        (``None`` where blank), and the original index (row numbers in messages
        are ``index + 2``, as a spreadsheet numbers rows under a header).

    Raises
    ------
    ManifestError
        Listing all problems at once, each with its row number and the fix.

    Examples
    --------
    >>> import pandas as pd
    >>> check_manifest(pd.DataFrame({"case_id": ["a"]})).case_id.tolist()
    ['a']
    """
    if path_columns is not None:
        warnings.warn("The 'path_columns' parameter of check_manifest is renamed "
                      "'file_columns'; the old name will be removed.", FutureWarning,
                      stacklevel=2)
        file_columns = path_columns
    if missing_files not in ("raise", "keep"):
        raise ValueError(
            "The 'missing_files' parameter of check_manifest must be one of "
            f"{{'keep', 'raise'}}. Got {missing_files!r} instead."
        )
    source = "manifest"
    if isinstance(manifest, pd.DataFrame):
        df = manifest.copy()
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    elif isinstance(manifest, (str, os.PathLike)):
        df = read_manifest(manifest)
        source = f"manifest '{manifest}'"
        base = Path(base_dir) if base_dir is not None else Path(manifest).resolve().parent
    else:
        raise TypeError(
            "check_manifest expects a CSV path or a pandas DataFrame; got "
            f"{type(manifest).__name__}."
        )
    if isinstance(required, str) or isinstance(file_columns, str):
        raise TypeError("The 'required' and 'file_columns' parameters of check_manifest must be "
                        "sequences of column names, e.g. ('image', 'mask').")
    required = list(dict.fromkeys([id_column, *required]))

    missing_cols = [c for c in required if c not in df.columns]
    if missing_cols:
        raise ManifestError(
            f"{source} lacks required column(s) {missing_cols}; it has {list(df.columns)}. "
            f"Add the column(s) (expected at least {required}) or rename the existing ones.",
            [f"missing column {c!r}" for c in missing_cols],
        )

    problems: list[str] = []
    df = df.reset_index(drop=True)
    # ids: text, stripped; blanks and duplicates are problems.
    ids = df[id_column].map(lambda v: None if _blank(v) else str(v).strip())
    df[id_column] = ids
    for i in df.index[ids.isna()]:
        problems.append(f"row {_row_number(i)}: {id_column} is blank; give every case a "
                        "unique id.")
    dup = ids[ids.notna() & ids.duplicated(keep=False)]
    for cid, rows in dup.groupby(dup).groups.items():
        shown = ", ".join(str(_row_number(r)) for r in rows)
        problems.append(
            f"rows {shown}: {id_column} {cid!r} is used more than once; ids must be unique "
            "(rename one, or remove the duplicate row)."
        )
    for col in required:
        if col == id_column:
            continue
        for i in df.index[df[col].map(_blank)]:
            problems.append(
                f"row {_row_number(i)} (case {ids[i]!r}): column {col!r} is blank; "
                "fill it in or remove the row."
            )

    missing_rows: set[int] = set()
    n_missing = 0
    for col in file_columns:
        if col not in df.columns:
            continue
        resolved = []
        for i, value in df[col].items():
            if _blank(value):
                resolved.append(None)
                continue
            p = Path(str(value).strip()).expanduser()
            if not p.is_absolute():
                p = base / p
            p = Path(os.path.abspath(p))
            resolved.append(str(p))
            if not p.exists():
                n_missing += 1
                missing_rows.add(i)
                if missing_files == "raise":
                    problems.append(
                        f"row {_row_number(i)} (case {ids[i]!r}): {col} file '{value}' does not "
                        f"exist (looked for '{p}'); fix the path (relative paths are relative "
                        f"to '{base}') or remove the row."
                    )
        df[col] = pd.Series(resolved, index=df.index, dtype=object)

    if missing_files == "keep" and len(df) and len(missing_rows) == len(df):
        problems.append(
            f"none of the {len(df)} cases has all its files ({n_missing} paths not found, "
            f"relative paths looked up under '{base}'); check the paths or the manifest's folder."
        )
    if len(df) == 0:
        problems.append("the manifest has no rows; add one row per case.")
    if problems:
        head = f"{source} has {len(problems)} problem(s):\n  " + "\n  ".join(problems)
        raise ManifestError(head, problems)
    return df


def _blank(value) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and not value.strip()
