"""CSV uploads on the page (app/web/upload.py): refused with the reason next to the control and nothing changed,
or loaded and trained on."""
import html
import re

import pytest

from helpers import CSV_CASES, HX, everything, page_session, state


@pytest.mark.parametrize("data, words", CSV_CASES)
def test_csv_uploads_on_the_page_are_refused_with_the_reason_and_change_nothing(client, data, words):
    sid = page_session(client)
    before = everything(client, sid)
    task = "classification" if b"label" in data else "regression"
    r = client.post("/ui/upload", headers=HX, files={"file": ("data.csv", data, "text/csv")},
                    data={"targets": "label" if task == "classification" else "y", "task": task})
    error = re.search(r'id="error-csv" role="alert">([^<]*)<', r.text)
    assert error and words in html.unescape(error.group(1)), r.text[:500]
    assert "<script>alert" not in r.text
    assert everything(client, sid) == before


def test_a_good_csv_upload_trains_on_it(client):
    sid = page_session(client)
    rows = "\n".join(f"{x},{x / 2},{1 if x > 5 else 0}" for x in range(12))
    r = client.post("/ui/upload", headers=HX, files={"file": ("mine.csv", f"a,b,label\n{rows}\n", "text/csv")},
                    data={"targets": "label", "task": "classification"})
    assert ("Loaded mine.csv: predicting label (classification, 2 classes), with a sigmoid output and the bce "
            "loss, picked for the task. The inputs are standardised.") in r.text
    s = state(client, sid)
    assert s["config"]["dataset"]["name"] == "csv" and s["data"]["input_names"] == ["a", "b"] and s["step"] == 0
    assert '<option value="csv" selected>' in client.get("/").text  # the select keeps showing the upload


@pytest.mark.parametrize("text", ['"a","b"\n1,2\n3,4\n5,6\n', '\n"a",b\n1,2\n3,4\n5,6\n'])
def test_the_default_target_is_the_last_column_as_the_csv_reader_sees_it(client, text):
    sid = page_session(client)
    r = client.post("/ui/upload", headers=HX, files={"file": ("q.csv", text.encode(), "text/csv")})
    assert "predicting b (regression)" in r.text, r.text[:400]
    assert state(client, sid)["data"]["target_names"] == ["b"]
