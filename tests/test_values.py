"""Values at their edges, without storage: how errors show them, datetimes near the ends of
the calendar, and the bounds of JSON payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from agentkeel.domain.audit import AuditEntry
from agentkeel.domain.errors import InvalidValue, NotFound, shown
from agentkeel.domain.fields import JSON_MAX_DEPTH, JSON_MAX_LENGTH, json_problem
from agentkeel.domain.workspace import Project, Repository


def nested(depth: int, kind: type[list[object]] | type[dict[str, object]] = list) -> object:
    """A list (or dict) nested `depth` deep around 0, built without recursion."""
    value: object = 0
    for _ in range(depth):
        value = [value] if kind is list else {"k": value}
    return value


# -- how errors show values ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        nested(1_000),
        nested(1_000, dict),
        nested(100_000),
        10**5_000,  # over Python's int-to-str limit of 4,300 digits
        -(10**100_000),
        [10**5_000],
    ],
    ids=["list-1000", "dict-1000", "list-100000", "int-5000", "int-neg-100000", "int-in-list"],
)
def test_showing_a_value_never_raises_and_stays_short(value: object) -> None:
    text = shown(value)
    assert len(text) < 100
    assert str(NotFound("project", value)).startswith("project not found: id=")


class Leaf:
    """A value that counts how often it is shown."""

    shown = 0

    def __repr__(self) -> str:
        Leaf.shown += 1
        return "leaf"


def test_only_what_is_shown_is_formatted() -> None:
    """Twenty levels of [a, a] repeat one leaf a million times (sixty would be 2**60 times,
    and a full repr would never end): only the few shown are formatted."""
    value: object = Leaf()
    for _ in range(20):
        value = [value, value]
    assert shown(value).startswith("[[[[")
    assert Leaf.shown < 60


def test_huge_integers_are_described_not_written_out() -> None:
    assert shown(10**5_000) == "<int of about 5001 digits>"
    assert shown(-(10**100)) == "<int of about 101 digits>"
    assert shown(2**63) == "9223372036854775808"


def test_a_cut_value_says_its_own_length() -> None:
    with pytest.raises(InvalidValue) as caught:
        Project(name="p", id="a" * 65)
    assert str(caught.value).endswith("… (65 chars))")
    assert shown("é" * 100).endswith("… (100 chars)")
    assert shown(list(range(1000))).endswith("… (1000 items)")
    assert shown({str(n): n for n in range(100)}).endswith("… (100 items)")
    assert shown(b"x" * 100).endswith("… (100 bytes)")


def test_short_values_are_shown_whole_as_repr() -> None:
    for value in ["it's", {"a": [1, 2.5, None, True]}, (1,), frozenset({1}), set(), b"\x00"]:
        assert shown(value) == repr(value)


# -- datetimes near the ends of the calendar -------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))),
    ],
    ids=["year-1-east", "year-9999-west"],
)
def test_a_datetime_with_no_utc_equivalent_is_refused(moment: datetime) -> None:
    with pytest.raises(InvalidValue) as caught:
        Project(name="p", archived_at=moment)
    assert str(caught.value).startswith(
        "project.archived_at is out of range when converted to UTC (got datetime.datetime("
    )
    repository = Repository(project_id="p", name="r", path="/r")
    with pytest.raises(InvalidValue, match=r"repository\.created_at is out of range"):
        repository.created_at = moment


def test_the_ends_of_the_calendar_in_utc_are_kept() -> None:
    for moment in [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]:
        assert Project(name="p", archived_at=moment).archived_at == moment


# -- JSON payloads -----------------------------------------------------------------------------


def audit_entry(data: object) -> AuditEntry:
    return AuditEntry.model_validate(
        {"event_type": "x", "event_category": "record", "message": "m", "event_data": data}
    )


def encoded_length(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def test_the_limits() -> None:
    assert JSON_MAX_DEPTH == 64
    assert JSON_MAX_LENGTH == 1_000_000


FINE = [
    None,
    True,
    0,
    -(2**63),
    2**63 - 1,
    -0.0,
    1e308,
    "",
    "🚢 ünï",
    [],
    {},
    {"ключ": [1, 1.0, "1", None, False, {"": []}]},
    nested(JSON_MAX_DEPTH),
    nested(JSON_MAX_DEPTH, dict),
]


@pytest.mark.parametrize("value", FINE, ids=range(len(FINE)))
def test_json_values_within_the_limits_are_fine(value: object) -> None:
    assert json_problem(value) is None
    assert audit_entry(value).event_data == value


NOT_JSON = "must hold only JSON values (null, booleans, numbers, strings, lists, objects), not"
REFUSED = [
    (2**63, "must hold only integers from -9223372036854775808 to 9223372036854775807"),
    (-(2**63) - 1, "must hold only integers from"),
    ([10**400], "must hold only integers from"),
    ({"k": float("inf")}, "must not contain NaN or infinity"),
    ([float("nan")], "must not contain NaN or infinity"),
    (["a\x00"], "must not contain NUL characters"),
    ({"\ud800": 1}, "must be valid Unicode text"),
    ({1: "a"}, "must have only string keys in its objects, not int"),
    ({None: "a"}, "must have only string keys in its objects, not NoneType"),
    (
        (1, 2),
        f"{NOT_JSON} tuple",
    ),
    (
        {"k": {1, 2}},
        f"{NOT_JSON} set",
    ),
    (
        [b"x"],
        f"{NOT_JSON} bytes",
    ),
    (
        [datetime(2026, 1, 1, tzinfo=UTC)],
        f"{NOT_JSON} datetime",
    ),
    (nested(JSON_MAX_DEPTH + 1), "must not nest lists and objects more than 64 deep"),
    (nested(JSON_MAX_DEPTH + 1, dict), "must not nest lists and objects more than 64 deep"),
    (nested(1_000), "must not nest lists and objects more than 64 deep"),
    (nested(100_000, dict), "must not nest lists and objects more than 64 deep"),
    ("x" * JSON_MAX_LENGTH, "must be at most 1000000 characters long as JSON"),
    ([0] * 500_001, "must be at most 1000000 characters long as JSON"),
]


@pytest.mark.parametrize(("value", "problem"), REFUSED, ids=range(len(REFUSED)))
def test_json_values_beyond_the_limits_are_refused_naming_the_field(
    value: object, problem: str
) -> None:
    found = json_problem(value)
    assert found is not None and found.startswith(problem)
    with pytest.raises(InvalidValue) as caught:
        audit_entry(value)
    assert caught.value.field == "event_data"
    assert str(caught.value).startswith(f"audit_entry.event_data {problem}")
    assert len(str(caught.value)) < 300


def test_a_payload_that_contains_itself_is_refused() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert json_problem(loop) == "must not nest lists and objects more than 64 deep"


def test_a_payload_sharing_parts_is_measured_as_written_out() -> None:
    """Sixty levels of [a, a] write one list 2**60 times: refused for its size, at once."""
    value: list[object] = []
    for _ in range(60):
        value = [value, value]
    assert json_problem(value) == "must be at most 1000000 characters long as JSON"


@pytest.mark.parametrize(
    "shape",
    [
        lambda pad: {'quote"': [1.5, True, None, -3, 'a\nb\x01é\\/"', 2**63 - 1], "p": pad},
        lambda pad: ["\u2028 \U0001f6a2", {"": {}}, [], -0.0, 1e-7, False, pad],
    ],
    ids=["object", "list"],
)
def test_the_size_limit_counts_the_compact_json_text_exactly(
    shape: Callable[[str], object],
) -> None:
    """Escapes, separators and numbers count as json.dumps writes them."""
    room = JSON_MAX_LENGTH - encoded_length(shape(""))
    assert encoded_length(shape("x" * room)) == JSON_MAX_LENGTH
    assert json_problem(shape("x" * room)) is None
    assert (
        json_problem(shape("x" * (room + 1))) == "must be at most 1000000 characters long as JSON"
    )
