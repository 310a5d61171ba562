"""A /predict body, read and checked by us: UTF-8, JSON, then each field, cheaply and in a fixed order.

FastAPI's own validation built one pydantic error per bad item, with its input, on the event loop: a 6 MB list
of numbers made millions. Here the texts are checked by plain loops that count problems without describing
them, and pydantic sees only the small fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

FIELDS = ("texts", "text_pairs", "top_k", "threshold", "min_confidence")
EXAMPLE = '{"texts": ["some text"]}'
SURROGATE = re.compile("[\ud800-\udfff]")
JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "true or false", list: "an array",
              dict: "an object", type(None): "null"}


class PredictOptions(BaseModel):
    """The small fields of a request, left to pydantic."""

    model_config = ConfigDict(extra="ignore")

    top_k: int = Field(1, ge=1, le=1000, description="Also return the k most likely labels with their scores.")
    threshold: float | None = Field(None, gt=0, lt=1, allow_inf_nan=False, description="Multi-label: one threshold for every label, "
                                    "instead of the model's tuned thresholds.")
    min_confidence: float | None = Field(None, ge=0, le=1, allow_inf_nan=False, description="Mark answers less sure "
                                         "than this as abstained (replaces the server's --min-confidence).")


class PredictRequest(PredictOptions):
    """Texts to classify (the schema /openapi.json shows; `read_predict_body` builds it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"texts": ["i feel wonderful today"], "top_k": 3, "threshold": None}]})

    texts: list[StrictStr] = Field(min_length=1, description="One or more texts.")
    text_pairs: list[StrictStr] | None = Field(None, description="For a model trained on text pairs: the second text "
                                               "of each pair, one per text.")


class BadRequest(Exception):
    """A request the client must change: its HTTP status and one line that says what to change."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Problems:
    """The first problem found, and how many there were in all (counted, not described)."""

    first: tuple[int, str] | None = None
    count: int = 0

    def add(self, status: int, message: str, count: int = 1) -> None:
        if self.first is None:
            self.first = (status, message)
        self.count += count

    def raise_any(self) -> None:
        if self.first is None:
            return
        status, message = self.first
        more = self.count - 1
        if more:
            message += f" (and {more:,} more problem{'s' if more > 1 else ''})"
        raise BadRequest(status, f"invalid request: {message}")


def read_predict_body(body: bytes, max_texts: int, max_chars: int) -> PredictRequest:
    """The request in `body`, or BadRequest naming its first problem (400, 413 or 422)."""
    data = decode_json(body)
    if not isinstance(data, dict):
        raise BadRequest(422, f"invalid request: the body must be a JSON object such as {EXAMPLE}, not {json_type(data)}")
    problems = Problems()
    unknown = [key for key in data if key not in FIELDS]
    if unknown:
        problems.add(422, f"unknown field {clip(unknown[0], 40)!r}; the fields are {', '.join(FIELDS)}", len(unknown))
    if "texts" not in data:
        problems.add(422, f"texts is missing; send {EXAMPLE}")
    if "texts" in data:
        check_texts("texts", data["texts"], max_texts, max_chars, problems)
    if data.get("text_pairs") is not None:
        check_texts("text_pairs", data["text_pairs"], max_texts, max_chars, problems)
    texts, pairs = data.get("texts"), data.get("text_pairs")
    if isinstance(texts, list) and isinstance(pairs, list) and len(texts) != len(pairs):
        problems.add(422, f"{len(texts)} texts but {len(pairs)} text_pairs; give one pair per text")
    options = check_options(data, problems)
    problems.raise_any()
    return PredictRequest.model_construct(texts=texts, text_pairs=pairs, top_k=options.top_k, threshold=options.threshold,
                                         min_confidence=options.min_confidence)


def decode_json(body: bytes):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequest(400, f"invalid request: the body is not valid UTF-8 (byte 0x{body[err.start]:02x} at "
                              f"position {err.start}); send JSON encoded as UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise BadRequest(422, f"invalid request: the body is not valid JSON ({err.msg} at line {err.lineno} "
                              f"column {err.colno})") from None
    except ValueError as err:  # an integer of over 4,300 digits: Python refuses to convert it
        raise BadRequest(422, f"invalid request: the body cannot be read as JSON ({clip(str(err), 120)})") from None
    except RecursionError:
        raise BadRequest(422, "invalid request: the body's JSON is nested too deeply; a request is an object of "
                              f"flat fields such as {EXAMPLE}") from None


def check_texts(name: str, value, max_texts: int, max_chars: int, problems: Problems) -> None:
    """`value` is a list of 1 to max_texts strings, each of valid Unicode and at most max_chars long."""
    if not isinstance(value, list):
        problems.add(422, f"{name} must be an array of strings such as {EXAMPLE}, not {json_type(value)}")
    elif not value:
        problems.add(422, f"{name} is empty; send at least one text")
    elif len(value) > max_texts:  # checked before the items: a 6 MB list is refused by its length alone
        problems.add(413, f"{len(value):,} {name} in one request, over the limit of {max_texts}; split the request "
                          "or start the server with a larger --max-texts")
    else:
        for i, text in enumerate(value):
            if not isinstance(text, str):
                problems.add(422, f"{name}[{i}] is {json_type(text)}, not a string")
            elif len(text) > max_chars:
                problems.add(413, f"{name}[{i}] has {len(text):,} characters, over the limit of {max_chars:,}; "
                                  "shorten it or start the server with a larger --max-chars")
            elif (found := SURROGATE.search(text)) is not None:
                problems.add(422, f"{name}[{i}] holds a lone surrogate (U+{ord(found.group()):04X}, character "
                                  f"{found.start()}), which is not valid Unicode; send well-formed UTF-8 text")


def check_options(data: dict, problems: Problems) -> PredictOptions:
    """top_k, threshold and min_confidence through pydantic: at most one error each."""
    try:
        return PredictOptions.model_validate({key: data[key] for key in FIELDS[2:] if key in data})
    except ValidationError as err:
        for error in err.errors(include_url=False, include_input=False):
            problems.add(422, f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
        return PredictOptions()


def json_type(value) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
