"""How long to wait, said as a sentence for the form that was refused."""

import pytest

from forum.kept_forms import wait_message


@pytest.mark.parametrize(
    ("seconds", "endpoint", "sentence"),
    [
        (40, "discussion.post", "You can post again in 40 seconds."),
        (1, "discussion.reply", "You can post again in 1 second."),
        (0, "discussion.post", "You can post again in 1 second."),  # never "0 seconds"
        (119, "discussion.edit", "You can save changes again in 119 seconds."),
        (130, "discussion.flag", "You can send a report again in 3 minutes."),
        (3600, "auth.login", "Too many login attempts. You can try again in 60 minutes."),
        (7300, None, "You can try again in 3 hours."),
    ],
)
def test_the_wait_is_said_in_whole_sentences(seconds, endpoint, sentence):
    assert wait_message(seconds, endpoint) == sentence
