"""The posting row's load from wrk: one wrk thread and connection per writer, each with its
writer's session cookie and CSRF token, a unique marker in every comment and a parent chosen
at random (most posts are replies). A Python client eats one of the two cores the server is
measured on; wrk, written in C, costs next to nothing.

Every answer is written down by the writer's thread (its marker, and whether it was a
redirect), so the caller can check that each comment acknowledged with a 3xx was stored, once.
A writer's connection carries one request at a time, so answers come in the order sent."""

import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote_plus

import loadgen

SCRIPT = r"""
local writers = {{ {writers} }}
local parents = {{ {parents} }}
local body_path = "/articles/{slug}/comments"
local answers_dir = "{answers_dir}"
local next_writer = 0
local tag = "{tag}"

function setup(thread)
  next_writer = next_writer + 1
  thread:set("writer", next_writer)
end

function init(args)
  me = writers[writer]
  sent = 0
  pending = nil
  answers = io.open(answers_dir .. "/w" .. writer, "w")
  math.randomseed(writer * 7919)
end

local function urlencode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function request()
  local marker = "(bench-post w" .. writer .. "-" .. sent .. tag .. ")"
  sent = sent + 1
  pending = marker
  local parent = ""
  if math.random() < 0.7 then
    parent = parents[math.random(#parents)]
  end
  local body = "body=" .. urlencode("A reply written under load. " .. marker)
    .. "&parent_id=" .. parent
    .. "&csrf_token=" .. me.token
    .. "&website=&submit=Post+comment"
  local headers = {{}}
  headers["Cookie"] = me.cookie
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", body_path, headers, body)
end

function response(status, headers, body)
  answers:write(status .. " " .. (pending or "?") .. "\n")
  answers:flush()
  pending = nil
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def post_load(
    port: int,
    writers: list[tuple[str, str]],
    ids: list[int],
    slug: str,
    seconds: float,
    tag: str = "",
) -> tuple[loadgen.Result, list[str], list[str]]:
    """Post from one wrk connection per ``(cookie header, CSRF token)`` for ``seconds``.

    Returns the wrk result (its ``errors`` count answers that weren't redirects and socket
    errors), the markers answered with a redirect, and the problems seen. ``tag`` ends
    every marker (runs against the same database keep theirs apart)."""
    answers = Path(tempfile.mkdtemp(prefix="bench-wrk-posting-"))
    lua_writers = ", ".join(
        f"{{cookie = {_lua(cookie)}, token = {_lua(quote_plus(token))}}}"
        for cookie, token in writers
    )
    script_text = SCRIPT.format(
        writers=lua_writers,
        parents=", ".join(_lua(str(i)) for i in ids),
        slug=slug,
        answers_dir=str(answers),
        tag=tag,
    )
    try:
        out = loadgen.wrk_script(port, script_text, len(writers), seconds)
        posted, problems = [], []
        for path in sorted(answers.iterdir()):
            for line in path.read_text().splitlines():
                status, _, marker = line.partition(" ")
                if status in ("302", "303"):
                    posted.append(marker)
                else:
                    problems.append(f"POST {marker} answered {status}")
    finally:
        shutil.rmtree(answers, ignore_errors=True)
    seen = loadgen.read_wrk(out)
    if seen.socket_errors:
        problems.append(f"{seen.socket_errors} socket errors or timeouts")
    result = loadgen.Result(
        len(posted),
        seen.seconds,
        seen.p50_ms,
        seen.p99_ms,
        len(problems) - (1 if seen.socket_errors else 0) + seen.socket_errors,
        "wrk",
    )
    return result, posted, problems
