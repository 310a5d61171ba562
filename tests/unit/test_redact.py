"""redact_source, redact_text and source_stem: what a run records of its data source."""

import logging

import pytest

from fineclass.redact import RedactingFilter, redact_source, redact_text, source_stem


@pytest.mark.parametrize("source, recorded", [
    ("https://alice:pw@host.org/d.csv?token=abc&x=1", "https://***@host.org/d.csv?***"),
    ("https://ghp_token@host.org/d.csv", "https://***@host.org/d.csv"),  # a token alone as the user name
    ("http://a:p@ss@host:8080/d.csv?", "http://***@host:8080/d.csv?***"),  # the last @ ends the credentials
    ("https://host.org/d.csv?sig=abc#part", "https://host.org/d.csv?***"),
    ("https://host.org/d.csv", "https://host.org/d.csv"),
    ("https://host.org/a@b/d.csv", "https://host.org/a@b/d.csv"),  # an @ in the path is not a credential
    ("data/train.csv", "data/train.csv"),
    ("what?.csv", "what?.csv"),  # a local file name may hold a ?
    ("hf:dair-ai/emotion", "hf:dair-ai/emotion"),
])
def test_redact_source(source, recorded):
    assert redact_source(source) == recorded
    assert redact_source(recorded) == recorded  # redacting twice changes nothing


def test_redact_text_redacts_every_url_and_keeps_the_punctuation_around_it():
    line = ("could not download https://u:p@h/d.csv?t=1; see (http://x.org/a?b=2), or 'https://k@h/e.tsv'. "
            "Not a URL: a?b=1")
    assert redact_text(line) == ("could not download https://***@h/d.csv?***; see (http://x.org/a?***), or "
                                 "'https://***@h/e.tsv'. Not a URL: a?b=1")


@pytest.mark.parametrize("source, stem", [
    ("https://alice:pw@host/data/emotions.csv?token=a.b", "emotions"),
    ("https://alice:pw@host", "host"),
    ("https://host/data/", "data"),
    ("runs/../emotion.tsv", "emotion"),
    ("hf:dair-ai/emotion", "emotion"),
])
def test_source_stem_never_holds_credentials_or_a_query(source, stem):
    assert source_stem(source) == stem


def test_the_filter_redacts_a_log_record_built_from_arguments():
    record = logging.LogRecord("fineclass", logging.INFO, __file__, 1, "downloading %s", ("https://u:p@h/d.csv?t=1",), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "downloading https://***@h/d.csv?***"
