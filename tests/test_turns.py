"""Script runs take turns (explorer/ui/turns.py): one works while the others wait, and a
long training gives its turn back."""

import threading
import time

from explorer.ui import turns


def test_runs_take_turns_and_a_given_back_turn_frees_the_next_run():
    order = []
    first_inside = threading.Event()
    let_go = threading.Event()

    def first():
        with turns.turn():
            order.append("first in")
            first_inside.set()
            let_go.wait(10)
            turns.give_back()  # a long training: the next run may start now
            order.append("first gave back")
            time.sleep(0.2)
            order.append("first out")

    def second():
        first_inside.wait(10)
        with turns.turn():
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert order == ["first in"]  # the second run waits its turn
    let_go.set()
    for t in threads:
        t.join(10)
    assert order.index("second in") > order.index("first gave back")
    assert order.index("second in") < order.index("first out")  # no wait for the rest


def test_a_turn_is_given_back_once_and_only_by_its_holder():
    with turns.turn():
        assert turns.holding()
        turns.give_back()
        turns.give_back()  # twice: no second release
        assert not turns.holding()
    turns.give_back()  # outside a turn: nothing happens
    with turns.turn():  # and the turn is free again
        assert turns.holding()
    assert not turns.holding()


def test_aside_gives_the_turn_back_while_waiting_and_takes_it_again():
    other_ran = threading.Event()

    def other():
        with turns.turn():
            other_ran.set()

    with turns.turn():
        worker = threading.Thread(target=other)
        worker.start()
        with turns.aside():
            assert not turns.holding()
            assert other_ran.wait(5), "another run could not take the turn while this one waited"
        assert turns.holding()
        worker.join(5)
    assert not turns.holding()


def test_held_for_reports_how_long_a_turn_is_held():
    assert turns.held_for() == 0.0
    with turns.turn():
        time.sleep(0.05)
        assert turns.held_for() >= 0.05
    assert turns.held_for() == 0.0
