"""Property tests for rooms: whatever a person types as a code, whatever a tampered client
sends as a vote, the answer is a code or one sentence, and the counts follow a plain model."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explorer.rooms import RoomError, Rooms, VoteRefused, normalize_code
from explorer.rooms.codes import ALPHABET, CODE_LENGTH

codes = st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


@given(code=codes, data=st.data())
def test_a_code_typed_in_any_case_with_any_separators_reads_back(code, data):
    typed = ""
    for char in code:
        typed += data.draw(st.sampled_from(["", " ", "-", "  ", "_", "\t"]))
        typed += char.lower() if data.draw(st.booleans()) else char
    typed += data.draw(st.sampled_from(["", " ", "\n"]))
    assert normalize_code(typed) == code


@given(text=st.text(max_size=300))
def test_any_text_is_a_code_or_one_sentence(text):
    try:
        code = normalize_code(text)
    except RoomError as error:
        message = str(error)
        assert message.endswith(".") and "\n" not in message and len(message) < 200
    else:
        assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('rooms') / 'rooms.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").create_schema()
    rooms = Rooms(url)
    yield rooms
    rooms.close()


junk = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.booleans(), st.none(),
    st.floats(allow_nan=True), st.text(max_size=5), st.lists(st.integers(), max_size=2),
)
votes = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.one_of(st.just(1), junk),
              st.one_of(st.integers(min_value=-1, max_value=3), junk)),
    max_size=10,  # at most FLOOD_VOTES from one voter: all within one minute
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(votes=votes)
def test_tampered_votes_are_refused_and_the_rest_count_exactly(store, votes):
    code, _ = store.create("saturation", 3)
    standing: dict[str, int] = {}
    for voter, round_, answer in votes:
        valid = (type(round_) is int and round_ == 1 and type(answer) is int
                 and 0 <= answer < 3)
        try:
            state = store.vote(code, round_, voter, answer)
        except VoteRefused as error:
            assert not valid, f"refused a valid vote: {error}"
            assert str(error).endswith(".") and "\n" not in str(error)
        else:
            assert valid, f"accepted {round_!r}, {answer!r}"
            standing[voter] = answer
            assert state.counts == tuple(list(standing.values()).count(i) for i in range(3))
    state = store.state(code)
    assert state.counts == tuple(list(standing.values()).count(i) for i in range(3))
    assert state.total == len(standing)
    for voter in ("a", "b", "c"):
        assert store.my_vote(code, 1, voter) == standing.get(voter)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(voter=st.text(max_size=80), lesson=st.text(max_size=80))
@example(voter="nul\x00", lesson="nul\x00")
@example(voter="x" * 65, lesson="x" * 65)
def test_any_text_as_voter_or_lesson_is_taken_or_refused_with_a_sentence(store, voter, lesson):
    """Never the database's own error (a NUL byte, an over-long value) dressed as an outage."""
    try:
        code, _ = store.create(lesson, 2)
    except RoomError as error:
        assert type(error) is RoomError and "lesson key" in str(error)
        code, _ = store.create("saturation", 2)
    else:
        assert store.state(code).lesson == lesson
    try:
        state = store.vote(code, 1, voter, 1)
    except VoteRefused as error:
        assert "no valid voter" in str(error)
        assert store.my_vote(code, 1, voter) is None
    else:
        assert state.counts == (0, 1) and store.my_vote(code, 1, voter) == 1
