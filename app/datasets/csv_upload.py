"""Parse an uploaded CSV into a Table, refusing anything odd with a specific, markup-free message.

Row numbers in messages are file lines, so the header is row 1, as a spreadsheet shows it.
"""

import csv
import io
import re

import numpy as np

from app.engine.errors import FieldError

from .messages import count, quote
from .tables import MAX_ABS_VALUE, Table

FIELD = "dataset.csv"
TARGETS = "dataset.target_columns"
MAX_NAME_LENGTH = 64
FORMULA_STARTS = "=+-@"  # spreadsheets run cells starting with these as formulas
FORBIDDEN = set('<>"`')
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def decode(data, max_bytes):
    """UTF-8 bytes or str -> str, checking the size cap first; a leading BOM is dropped."""
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldError(FIELD, "The CSV is not valid UTF-8 text.") from None
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise FieldError(FIELD, "The CSV must be text.")
    data = bytes(data)
    if len(data) > max_bytes:
        raise FieldError(FIELD, f"The CSV is too large: the limit is {max_bytes:,} bytes.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FieldError(FIELD, f"The CSV is not valid UTF-8 text (bad byte at position {e.start}); "
                                "save it as UTF-8 and upload it again.") from None


def check_header(header, max_columns):
    """Stripped column names, each checked for safety and uniqueness."""
    if len(header) > max_columns:
        raise FieldError(FIELD, f"The CSV has {len(header)} columns; the limit is {max_columns}.")
    names = [cell.strip() for cell in header]
    for i, name in enumerate(names, start=1):
        if not name:
            raise FieldError(FIELD, f"Column {i} has an empty header; every column needs a name.")
        if len(name) > MAX_NAME_LENGTH:
            raise FieldError(FIELD, f"Column {i}'s header is longer than {MAX_NAME_LENGTH} characters.")
        if name[0] in FORMULA_STARTS:
            raise FieldError(FIELD, f"Column {i}'s header starts with '{name[0]}', which spreadsheets "
                                    "run as a formula; rename the column.")
        if any(ch in FORBIDDEN or not ch.isprintable() for ch in name):
            raise FieldError(FIELD, f"Column {i}'s header contains a character that is not allowed (angle "
                                    "brackets, double quotes, backticks and control characters); rename the column.")
    seen = {}
    for i, name in enumerate(names, start=1):
        if name in seen:
            raise FieldError(FIELD, f"Columns {seen[name]} and {i} are both named '{name}'; "
                                    "column names must be unique.")
        seen[name] = i
    return names


def check_targets(names, target_columns, task):
    """Indices of the target columns in the header."""
    if task not in ("regression", "classification"):
        raise FieldError("dataset.task", "The task must be 'regression' or 'classification'.")
    if not isinstance(target_columns, (list, tuple)) or not all(isinstance(t, str) for t in target_columns):
        raise FieldError(TARGETS, "Target columns must be a list of header names.")
    if not target_columns:
        raise FieldError(TARGETS, "Choose at least one target column.")
    if len(set(target_columns)) != len(target_columns):
        raise FieldError(TARGETS, "A target column is listed more than once.")
    for t in target_columns:
        if t not in names:
            shown = ", ".join(f"'{n}'" for n in names[:10]) + (", ..." if len(names) > 10 else "")
            raise FieldError(TARGETS, f"Target column {quote(t, 64)} is not in the CSV header; "
                                      f"the columns are {shown}.")
    if len(target_columns) == len(names):
        raise FieldError(TARGETS, "Every column is a target; leave at least one column as an input.")
    if task == "classification" and len(target_columns) != 1:
        raise FieldError(TARGETS, f"Classification needs exactly one target column (the class label), "
                                  f"not {len(target_columns)}.")
    return [names.index(t) for t in target_columns]


def parse_number(cell, line, name):
    text = cell.strip()
    if not text:
        raise FieldError(FIELD, f"Row {line}, column '{name}' is empty; every cell needs a number.")
    if not NUMBER.fullmatch(text):
        raise FieldError(FIELD, f"Row {line}, column '{name}': {quote(text)} is not a number.")
    value = float(text)
    if not abs(value) <= MAX_ABS_VALUE:
        raise FieldError(FIELD, f"Row {line}, column '{name}': {quote(text)} is too large; values must lie "
                                f"within ±{MAX_ABS_VALUE:,.0f} (rescale the column).")
    return value


def read_values(reader, names, max_rows):
    """(values (n, m) float64, file line of each row) for the data rows left in reader."""
    values, lines = [], []
    for row in reader:
        if not row:
            continue  # blank line
        line = reader.line_num
        if len(row) != len(names):
            raise FieldError(FIELD, f"Row {line} has {count(len(row), 'cell')} but the header has "
                                    f"{count(len(names), 'column')}.")
        if len(values) == max_rows:
            raise FieldError(FIELD, f"The CSV has more than {max_rows:,} data rows; the limit is {max_rows:,}.")
        values.append([parse_number(cell, line, name) for cell, name in zip(row, names)])
        lines.append(line)
    if len(values) < 2:
        raise FieldError(FIELD, f"The CSV has {count(len(values), 'data row')}; at least 2 are needed.")
    return np.array(values, dtype=np.float64), lines


def parse_csv(data: str | bytes, target_columns: list[str], task: str, max_bytes: int, max_columns: int,
              max_rows: int) -> Table:
    """CSV text -> Table with x (n, d) and y (n, T) float targets, or (n,) class ids for classification."""
    reader = csv.reader(io.StringIO(decode(data, max_bytes), newline=""))
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            raise FieldError(FIELD, "The CSV is empty; it needs a header row and at least 2 data rows.")
        names = check_header(header, max_columns)
        target_idx = check_targets(names, target_columns, task)
        values, lines = read_values(reader, names, max_rows)
    except csv.Error as e:
        raise FieldError(FIELD, f"The CSV could not be read near row {reader.line_num}: {e}.") from None

    input_idx = [i for i in range(len(names)) if i not in target_idx]
    x = values[:, input_idx]
    input_names = tuple(names[i] for i in input_idx)
    target_names = tuple(target_columns)
    if task == "regression":
        return Table(input_names, target_names, x, values[:, target_idx])

    column = values[:, target_idx[0]]
    name = target_names[0]
    for value, line in zip(column, lines):
        if not value.is_integer():
            raise FieldError(FIELD, f"Row {line}, column '{name}': {float(value)!r} is not a whole number; "
                                    "classification needs integer class labels.")
    classes, y = np.unique(column, return_inverse=True)
    if len(classes) < 2:
        raise FieldError(FIELD, f"Column '{name}' holds only one class ({int(classes[0])}); "
                                "classification needs at least 2.")
    return Table(input_names, target_names, x, y.astype(np.int64), classes=tuple(str(int(c)) for c in classes))
