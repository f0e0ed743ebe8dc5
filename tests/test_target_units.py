"""An uploaded CSV's own unit (app/datasets/units.py): read from the target column's name or set in the form, kept
with the dataset, and written by one rule (app/views/units.py amount) wherever the page shows the data's numbers."""
import html
import math
import re

import pytest

from app.datasets.units import SUFFIXES, check_unit, unit_of, units_of
from app.engine import FieldError
from app.views.units import amount, in_units, unit_words
from helpers import HX, everything, page_session, state

HOMES = ("size_m2,rooms,price_usd\n48,1,152300\n65,2,181500\n80,3,212000\n95,3,239900\n120,4,287500\n"
         "55,2,164000\n72,2,196800\n88,3,226400\n105,4,261000\n130,5,305200\n")


# --- the suffix table -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column, unit", [
    ("price_usd", "$"), ("cost_eur", "€"), ("salary_gbp", "£"), ("weight_kg", "kg"), ("height_cm", "cm"),
    ("Price_USD", "$"), ("area_m2", "m²"), ("temp_c", "°C"), (" rent_usd ", "$"),
    ("price", ""), ("usd", ""), ("_usd", ""), ("price_usdollars", ""), ("x1", ""), ("weight_kgs", ""),
])
def test_a_columns_suffix_names_its_unit(column, unit):
    assert unit_of(column) == unit


def test_every_suffix_is_lower_case_and_every_unit_short_enough_to_be_given_by_hand():
    for suffix, unit in SUFFIXES.items():
        assert suffix == suffix.lower() and unit_of(f"value_{suffix}") == unit
        assert check_unit(unit) == unit


def test_targets_share_a_unit_or_have_none():
    assert units_of(["low_usd", "high_usd"]) == "$"
    assert units_of(["price_usd", "weight_kg"]) == "" and units_of(["a", "b"]) == ""


@pytest.mark.parametrize("given, kept", [("$", "$"), (" kg ", "kg"), ("points", "points"), ("", ""),
                                         ("sq ft", "sq ft"), ("°C", "°C")])
def test_a_given_unit_is_kept_stripped(given, kept):
    assert check_unit(given) == kept


@pytest.mark.parametrize("given, words", [("x" * 13, "13 characters long"), ("<b>", "angle brackets"),
                                          ('"$"', "quotes"), ("k\tg", "control characters"),
                                          ("a  b", "runs of spaces"), (5, "must be text"),
                                          ("&lt;b&gt;", "ampersands"), ("a" + "\u0301" * 11, "combining marks"),
                                          ("\U0001242b" * 3, "wide characters"), ("\u3164", "invisible"),
                                          ("\U0001f600", "wide characters"), ("円", "wide characters")])
def test_a_bad_unit_is_refused_naming_the_field(given, words):
    with pytest.raises(FieldError) as refused:
        check_unit(given)
    assert refused.value.field == "dataset.unit" and words in refused.value.message


# --- the one number format ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (152300.0, "152,300"), (16788.4, "16,788"), (113439.2, "113,439"), (1000.0, "1,000"), (999.96, "1,000"),
    (999.94, "999.9"), (812.44, "812.4"), (12.0, "12"), (0.123456, "0.1235"), (0.0, "0"), (-16788.4, "−16,788"),
    (-0.5, "−0.5"), (999_999_999.0, "999,999,999"), (1.2346e12, "1.235×10¹²"), (2.5e-7, "2.5×10⁻⁷"),
    (math.inf, "∞"), (math.nan, "NaN"),
])
def test_one_rule_writes_every_number_in_the_datas_units(value, text):
    assert amount(value) == text


@pytest.mark.parametrize("value, unit, text", [
    (152300.0, "$", "$152,300"), (-812.44, "$", "−$812.4"), (4519.3, "€", "€4,519"), (72.5, "kg", "72.5 kg"),
    (12.5, "%", "12.5%"), (16788.4, "", "16,788"), (0.4, "£", "£0.4"),
])
def test_a_currency_goes_before_the_number_and_any_other_unit_after_it(value, unit, text):
    assert in_units(value, unit) == text


def test_a_currency_is_named_in_words_and_any_other_unit_names_itself():
    assert [unit_words(u) for u in ("$", "€", "£", "kg", "")] == ["dollars", "euros", "pounds", "kg", ""]


# --- the page ------------------------------------------------------------------------------------------------------


def upload(client, text=HOMES, **form):
    return client.post("/ui/upload", headers=HX, files={"file": ("homes.csv", text, "text/csv")}, data=form)


def test_a_price_usd_column_is_read_as_dollars_in_the_metrics_predict_and_inspector(client):
    sid = page_session(client)
    r = upload(client)
    said = html.unescape(r.text)
    assert ("Its values are in dollars ($), read from the column name price_usd; correct Unit of the target and "
            "load the file again if that is wrong.") in said
    assert 'id="f-unit" type="text" name="unit"' in r.text and 'value="$"' in r.text  # what is in use, to correct
    assert state(client, sid)["config"]["dataset"]["unit"] == "$"  # kept with the dataset
    r = client.post("/ui/step", headers=HX)
    rmse = re.search(r'id="metric-train-rmse" data-value="([^"]+)">([^<]+)<', r.text)
    assert rmse[2] == in_units(float(rmse[1]), "$") and rmse[2].startswith("$")
    assert "the RMSE above is in dollars" in html.unescape(r.text)
    r = client.post("/ui/predict", headers=HX, data={"input_0": "100", "input_1": "3"})
    answer = re.search(r'<dt>price_usd</dt><dd data-value="([^"]+)"><strong>([^<]+)</strong>', r.text)
    assert answer[2] == in_units(float(answer[1]), "$") and answer[2].startswith("$")
    r = client.post("/ui/inspect", headers=HX, data={"kind": "node", "layer": "3", "to": "0"})
    note = re.search(r"In the data's units, a = (\S+) and t = (\S+)\.", html.unescape(r.text))
    assert note and note[1].startswith("$") and note[2].startswith("$"), r.text[:300]
    api = client.get(f"/api/sessions/{sid}").json()
    assert isinstance(api["loss"]["train"], float)  # the API's numbers stay raw


def test_a_unit_set_in_the_form_wins_over_the_column_name(client):
    sid = page_session(client)
    r = upload(client, unit="€")
    assert "Its values are in euros (€), as you set it." in html.unescape(r.text)
    r = client.post("/ui/step", headers=HX)
    assert re.search(r'id="metric-train-rmse" data-value="[^"]+">€[0-9,]+<', r.text)
    assert state(client, sid)["config"]["dataset"]["unit"] == "€"


def test_a_column_without_a_unit_says_so_and_a_unit_after_the_number_reads_so(client):
    page_session(client)
    r = upload(client, HOMES.replace("price_usd", "weight"))
    assert "Its column name names no unit; give one in Unit of the target" in html.unescape(r.text)
    assert "metric-train-rmse" in r.text and '">$' not in r.text
    r = upload(client, HOMES.replace("price_usd", "weight"), unit="kg")
    assert re.search(r'id="metric-train-rmse" data-value="[^"]+">[0-9,.]+ kg<', r.text)


def test_a_decomposed_letter_is_one_letter():
    assert check_unit("e\u0301t\u00e9") == "\u00e9t\u00e9"


@pytest.mark.parametrize("given, words", [("x" * 13, "13 characters long"), ("<script>", "angle brackets")])
def test_a_bad_unit_is_refused_beside_its_control_and_changes_nothing(client, given, words):
    sid = page_session(client)
    before = everything(client, sid)
    r = upload(client, unit=given)
    error = re.search(r'id="error-unit" role="alert">([^<]*)<', r.text)
    assert error and words in html.unescape(error[1]), r.text[:500]
    assert 'aria-invalid="true"' in r.text.split('id="f-unit"')[1].split(">")[0]
    assert "<script>" not in r.text
    assert 'role="alert">unit: ' not in r.text  # beside its field, not again over the form
    assert everything(client, sid) == before


CLASSES = "x1,x2,label\n0,0,0\n1,1,1\n0,1,0\n1,0,1\n0.5,0.5,1\n0.2,0.9,0\n"


def test_a_unit_for_class_targets_would_do_nothing_and_is_refused(client):
    sid = page_session(client)
    before = everything(client, sid)
    r = upload(client, CLASSES, task="classification", unit="$")
    error = re.search(r'id="error-unit" role="alert">([^<]*)<', r.text)
    assert error and "regression target" in html.unescape(error[1]), r.text[:500]
    assert everything(client, sid) == before
    assert "error-unit" not in upload(client, CLASSES, task="classification").text  # no unit: loaded
    refused = client.post("/api/sessions", json={"dataset": {"csv": CLASSES, "target_columns": ["label"],
                                                             "task": "classification", "unit": "kg"}})
    assert refused.status_code == 422 and "dataset.unit" in refused.text


def test_the_api_takes_a_unit_for_a_csv_and_refuses_a_bad_one_naming_the_field(client):
    body = {"dataset": {"csv": HOMES, "target_columns": ["price_usd"]}}
    made = client.post("/api/sessions", json=body).json()
    assert made["config"]["dataset"]["unit"] == "$"
    refused = client.post("/api/sessions", json={"dataset": {**body["dataset"], "unit": "<b>"}})
    assert refused.status_code == 422 and "dataset.unit" in refused.text
    refused = client.post("/api/sessions", json={"dataset": {"name": "circle", "unit": "kg"}})
    assert refused.status_code == 422 and "dataset.unit" in refused.text
