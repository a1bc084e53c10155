from csta_connector.broadworks.ordering import MAX_SEQUENCE, EventOrdering, SequenceGap


def test_duplicates_are_detected_within_memory():
    ordering = EventOrdering(memory=2)
    assert not ordering.is_duplicate("a")
    assert ordering.is_duplicate("a")
    assert not ordering.is_duplicate("b")
    assert not ordering.is_duplicate("c")
    assert not ordering.is_duplicate("a")  # forgotten: memory holds 2


def test_sequence_gaps_are_reported_per_subscription():
    ordering = EventOrdering()
    assert ordering.check_sequence("s1", 5) is None
    assert ordering.check_sequence("s2", 1) is None
    assert ordering.check_sequence("s1", 6) is None
    assert ordering.check_sequence("s1", 9) == SequenceGap("s1", 7, 9)
    assert ordering.check_sequence("s1", 10) is None


def test_late_redelivery_is_not_a_gap_and_does_not_rewind():
    ordering = EventOrdering()
    ordering.check_sequence("s", 4)
    assert ordering.check_sequence("s", 3) is None
    assert ordering.check_sequence("s", 5) is None


def test_sequence_wraps_to_one():
    ordering = EventOrdering()
    ordering.check_sequence("s", MAX_SEQUENCE)
    assert ordering.check_sequence("s", 1) is None
    ordering.forget("s")
    assert ordering.check_sequence("s", 77) is None


def test_an_absurd_number_is_one_gap_and_the_next_event_starts_afresh():
    for absurd in (MAX_SEQUENCE + 1, 10**23, 0, -5):
        ordering = EventOrdering()
        assert ordering.check_sequence("s", 41) is None
        assert ordering.check_sequence("s", absurd) == SequenceGap("s", 42, absurd)
        assert ordering.check_sequence("s", 43) is None  # no second, spurious gap
        assert ordering.check_sequence("s", 44) is None
        assert ordering.check_sequence("s", 50) == SequenceGap("s", 45, 50)


def test_an_absurd_first_number_loses_nothing_known():
    ordering = EventOrdering()
    assert ordering.check_sequence("s", 10**23) is None
    assert ordering.check_sequence("s", 3) is None
    assert ordering.check_sequence("s", 4) is None
