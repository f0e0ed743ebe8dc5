"""Files are small and named for what they hold (issue 24 §4): no Python file in app/ is over MAX_LINES lines except
the settings table, which declares every setting in one place."""
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
MAX_LINES = 300
SETTINGS_TABLE = APP / "core" / "options.py"


def lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_file_in_app_is_over_300_lines_but_the_settings_table():
    files = sorted(APP.rglob("*.py"))
    assert SETTINGS_TABLE in files
    over = {str(path.relative_to(APP.parent)): lines(path) for path in files
            if path != SETTINGS_TABLE and lines(path) > MAX_LINES}
    assert over == {}
