"""A Disqus export of any size, shaped like a real one, for the import benchmark
(bench/import_disqus.py) and the slow test: ~25 comments per thread in threads of very
different sizes, most comments replies (down to depth 8), a few deleted or spam, HTML
bodies in CDATA, authors with usernames, anonymous guests with only a name."""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

_WORDS = [
    "the",
    "page",
    "cache",
    "thread",
    "reply",
    "index",
    "query",
    "server",
    "version",
    "test",
    "number",
    "draft",
    "note",
    "idea",
    "good",
    "slow",
    "fast",
    "clear",
    "odd",
    "useful",
    "wrong",
    "right",
    "think",
    "agree",
    "wonder",
    "measured",
    "found",
    "changed",
]


def _body(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 4)):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 60))]
        if rng.random() < 0.1:
            words.insert(rng.randrange(len(words)), '<a href="https://example.org/x">a link</a>')
        if rng.random() < 0.1:
            words.insert(rng.randrange(len(words)), "<b>bold</b>")
        paragraphs.append("<p>" + " ".join(words).capitalize() + ".</p>")
    return "".join(paragraphs)


def write_disqus_export(path: Path, comments: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    threads = max(1, comments // 25)
    start = datetime(2012, 1, 1, tzinfo=UTC)
    weights = [1 / (rank + 1) for rank in range(threads)]
    per_thread: list[list[tuple[int, int]]] = [[] for _ in range(threads)]  # (id, depth)
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
        )
        for t in range(threads):
            out.write(
                f'<thread dsq:id="{1000 + t}"><id /><forum>bench</forum>'
                f"<link>https://bench.example.org/{2012 + t % 10}/post-{t}/</link>"
                f"<title>{escape(f'Post number {t}')}</title><message />"
                f"<createdAt>{(start + timedelta(hours=t)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
                "</createdAt><isClosed>false</isClosed><isDeleted>false</isDeleted></thread>\n"
            )
        moment = start + timedelta(days=1)
        for n in range(comments):
            post_id = 10_000_000 + n
            thread = rng.choices(range(threads), weights)[0]
            earlier = per_thread[thread]
            parent = None
            depth = 0
            if earlier and rng.random() < 0.7:
                parent, parent_depth = rng.choice(earlier[-50:])
                if parent_depth >= 8:
                    parent, parent_depth = earlier[0]
                depth = parent_depth + 1
            earlier.append((post_id, depth))
            moment += timedelta(seconds=rng.randint(1, 600))
            roll = rng.random()
            who = rng.randrange(2_000)
            if who % 5 == 0:
                author = f"<name>Guest {who}</name><isAnonymous>true</isAnonymous>"
            else:
                author = (
                    f"<email>reader{who}@example.net</email><name>Reader {who}</name>"
                    f"<isAnonymous>false</isAnonymous><username>reader{who}</username>"
                )
            out.write(
                f'<post dsq:id="{post_id}"><id /><message><![CDATA[{_body(rng)}]]></message>'
                f"<createdAt>{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}</createdAt>"
                f"<isDeleted>{'true' if roll < 0.02 else 'false'}</isDeleted>"
                f"<isSpam>{'true' if 0.02 <= roll < 0.03 else 'false'}</isSpam>"
                f"<author>{author}</author>"
                f'<thread dsq:id="{1000 + thread}" />'
                + (f'<parent dsq:id="{parent}" />' if parent is not None else "")
                + "</post>\n"
            )
        out.write("</disqus>\n")
