"""The container files (Dockerfile, .dockerignore, compose.yaml, deploy/nginx.conf), checked without Docker.

Every shopdesk command line in them, and in their comments' instructions, goes through shopdesk's own `main`,
with the environment they set and `serve` replaced by a stand-in that keeps the settings it was handed: so a flag
that does not exist, a misspelt variable or a bind that would be refused fails here, not in someone's container.

Reading them takes no new dependency: the Dockerfile's commands are in exec (JSON) form; compose.yaml keeps to a
small subset of YAML that `read_compose` below reads strictly (it refuses whatever else it meets rather than
guess); nginx's syntax is a few tokens; and which files reach the build is decided by a port of the rules Docker
applies to .dockerignore (github.com/moby/patternmatcher).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
from shop_support import build_wheel

import shopdesk.cli.main as cli
import shopdesk.transport.serve as serving
from shopdesk.cli.parser import build_parser
from shopdesk.settings import ENVIRONMENT, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "shopdesk-mcp"  # the tag the Dockerfile's instructions build


# --- the Dockerfile --------------------------------------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[str]:
    """The Dockerfile's instructions, continuation lines joined and comment lines left out, as Docker reads it."""
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        if (pending + line).strip():
            yield (pending + line).strip()
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation line"


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per stage, each stage starting at its FROM."""
    stages: list[list[tuple[str, str]]] = []
    for line in _logical_lines((ROOT / "Dockerfile").read_text()):
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            stages.append([])
        elif stages:
            stages[-1].append((word.upper(), rest.strip()))
    return stages


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def instruction(stage: list[tuple[str, str]], name: str) -> str:
    (found,) = [rest for word, rest in stage if word == name]  # exactly one, or the image is ambiguous
    return found


def exec_form(text: str) -> list[str]:
    value = json.loads(text)  # shell form would run under /bin/sh, without signals reaching shopdesk
    assert isinstance(value, list) and all(isinstance(part, str) for part in value), text
    return value


def image_env() -> dict[str, str]:
    """The final image's ENV, as `ENV NAME=VALUE ...` sets it."""
    env: dict[str, str] = {}
    for word, rest in final_stage():
        if word == "ENV":
            for pair in shlex.split(rest):
                name, sep, value = pair.partition("=")
                assert sep, f"ENV {rest}: write NAME=VALUE"
                env[name] = value
    return env


def image_command() -> list[str]:
    stage = final_stage()
    assert exec_form(instruction(stage, "ENTRYPOINT")) == ["shopdesk"]
    return exec_form(instruction(stage, "CMD"))


def exposed_port() -> int:
    return int(instruction(final_stage(), "EXPOSE").split("/")[0])


def documented(text: str, pattern: str) -> list[str]:
    """The command lines a file's comments tell people to run: comment lines joined where they end in a backslash,
    then every match of `pattern`."""
    comments = [line.lstrip()[1:].strip() for line in text.splitlines() if line.lstrip().startswith("#")]
    joined = "\n".join(comments).replace("\\\n", " ")
    return re.findall(pattern, joined)


def docker_runs() -> list[tuple[dict[str, str], list[str], list[str]]]:
    """The Dockerfile's documented `docker run ... shopdesk-mcp ARGS`: (the -e variables, the -p ports, ARGS)."""
    runs = []
    for line in documented((ROOT / "Dockerfile").read_text(), r"docker run [^\n]*"):
        words = shlex.split(line, comments=True)
        at = words.index(IMAGE)
        options, args = words[2:at], words[at + 1 :]
        pairs = list(zip(options, options[1:], strict=False))  # each flag with the word after it
        env = dict(value.partition("=")[::2] for flag, value in pairs if flag in ("-e", "--env"))
        ports = [value for flag, value in pairs if flag in ("-p", "--publish")]
        runs.append((env, ports, args or image_command()))  # no arguments: the image's CMD
    return runs


# --- compose.yaml ----------------------------------------------------------------------------------------------


class ComposeSyntaxError(ValueError):
    """compose.yaml uses YAML that `read_compose` does not read (and so the tests cannot check)."""


def _strip_comment(line: str) -> str:
    quote = None
    for at, char in enumerate(line):
        if quote:
            if char == quote and not (quote == '"' and line[at - 1] == "\\"):
                quote = None
        elif char in "\"'" and (at == 0 or line[at - 1] in " [,:-"):
            quote = char
        elif char == "#" and (at == 0 or line[at - 1] in " \t"):
            return line[:at]
    return line


def _scalar(text: str, number: int) -> Any:
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise ComposeSyntaxError(f"line {number}: unterminated quote")
        return text[1:-1].replace("''", "'")
    if text.startswith("["):
        items = json.loads(text)  # a flow list written as JSON: ["a", "b"]
        if not all(isinstance(item, str) for item in items):
            raise ComposeSyntaxError(f"line {number}: a list of strings, quoted")
        return items
    if text[0] in "{&*!|>%@`" or ": " in text or text.endswith(":"):
        raise ComposeSyntaxError(f"line {number}: {text!r} is YAML this reader does not take")
    return text  # a plain scalar, kept as its text (true stays "true")


def _block(lines: list[tuple[int, int, str]], at: int, indent: int) -> tuple[Any, int]:
    if lines[at][2].startswith("- "):
        items = []
        while at < len(lines) and lines[at][1] == indent and lines[at][2].startswith("- "):
            items.append(_scalar(lines[at][2][2:].strip(), lines[at][0]))
            at += 1
        if at < len(lines) and lines[at][1] > indent:
            raise ComposeSyntaxError(f"line {lines[at][0]}: only plain items in a list")
        return items, at
    mapping: dict[str, Any] = {}
    while at < len(lines) and lines[at][1] == indent:
        number, _, body = lines[at]
        key, sep, rest = body.partition(":")
        if not sep or (rest and not rest.startswith(" ")) or not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            raise ComposeSyntaxError(f"line {number}: expected `key: value`, got {body!r}")
        if key in mapping:
            raise ComposeSyntaxError(f"line {number}: {key} twice")
        at += 1
        if rest.strip():
            mapping[key] = _scalar(rest.strip(), number)
        elif at < len(lines) and lines[at][1] > indent:
            mapping[key], at = _block(lines, at, lines[at][1])
        else:
            mapping[key] = None
    if at < len(lines) and lines[at][1] > indent:
        raise ComposeSyntaxError(f"line {lines[at][0]}: indented under nothing")
    return mapping, at


def read_compose(text: str) -> dict[str, Any]:
    """The subset of YAML compose.yaml is written in: block mappings, lists of scalars, JSON-style flow lists,
    quoted or plain scalars, comments. Anything else is refused with its line number."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        body = _strip_comment(raw).rstrip()
        if not body.strip():
            continue
        if "\t" in body[: len(body) - len(body.lstrip())]:
            raise ComposeSyntaxError(f"line {number}: a tab in the indentation")
        lines.append((number, len(body) - len(body.lstrip(" ")), body.strip()))
    document, end = _block(lines, 0, 0)
    if end != len(lines):
        raise ComposeSyntaxError(f"line {lines[end][0]}: indented less than the document")
    return document


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return read_compose((ROOT / "compose.yaml").read_text())


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def replicas(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run shopdesk's server: the built image, serving."""
    built = {s["image"] for s in services(compose).values() if "build" in s}
    assert len(built) == 1, "one service builds the image, the others run it"
    return {
        name: s
        for name, s in services(compose).items()
        if s.get("image") in built and (s.get("command") or image_command())[:1] == ["serve"]
    }


def admin(compose: dict[str, Any]) -> dict[str, Any]:
    (name,) = [
        n for n, s in services(compose).items() if s.get("image") == IMAGE + ":local" and n not in replicas(compose)
    ]
    return services(compose)[name]


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    """What the container sees: the image's ENV, then the service's environment over it."""
    environment = service.get("environment") or {}
    assert isinstance(environment, dict), "environment as a mapping, NAME: value"
    return {**image_env(), **environment}


def volume_mounts(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Mount point -> (source, mode), from `SOURCE:TARGET[:MODE]`."""
    mounts = {}
    for entry in service.get("volumes") or []:
        source, target, *mode = entry.split(":")
        mounts[target] = (source, mode[0] if mode else "rw")
    return mounts


# --- nginx.conf ------------------------------------------------------------------------------------------------

Directive = tuple[list[str], list[Any] | None]  # (name and arguments, the block's directives or None)


def read_nginx(text: str) -> list[Directive]:
    text = re.sub(r"#[^\n]*", "", text)
    tokens = re.findall(r'"[^"]*"|[{};]|[^\s{};]+', text)
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].append((words, None))
            words = []
        elif token == "{":
            block: list[Directive] = []
            stack[-1].append((words, block))
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"nginx.conf: {' '.join(words)} needs a ;"
            stack.pop()
        else:
            words.append(token.strip('"'))
    assert len(stack) == 1 and not words, "nginx.conf: unbalanced braces"
    return stack[0]


def directives(block: list[Directive], name: str) -> list[list[str]]:
    return [words[1:] for words, children in block if words[0] == name and children is None]


def blocks(block: list[Directive], *words: str) -> list[list[Directive]]:
    return [children for w, children in block if children is not None and w[: len(words)] == list(words)]


@pytest.fixture(scope="module")
def nginx() -> list[Directive]:
    return read_nginx((ROOT / "deploy" / "nginx.conf").read_text())


def nginx_service(compose: dict[str, Any]) -> dict[str, Any]:
    (found,) = [s for s in services(compose).values() if str(s.get("image", "")).startswith("nginx:")]
    return found


# --- .dockerignore, as Docker applies it -----------------------------------------------------------------------


def _compile(pattern: str) -> Callable[[str], bool]:
    """One .dockerignore pattern as moby/patternmatcher's Pattern.compile reads it."""
    regex, kind, at, first = "^", "exact", 0, True
    while at < len(pattern):
        char = pattern[at]
        if char == "*" and pattern[at + 1 : at + 2] == "*":
            at += 2
            if pattern[at : at + 1] == "/":
                at += 1
            if at >= len(pattern):
                if kind == "exact":
                    kind = "prefix"
                else:
                    regex, kind = regex + ".*", "regexp"
            else:
                regex, kind = regex + "(.*/)?", "regexp"
            if first:
                kind = "suffix"
            first = False
            continue
        if char == "*":
            regex, kind = regex + "[^/]*", "regexp"
        elif char == "?":
            regex, kind = regex + "[^/]", "regexp"
        elif char in ".+()|{}$":
            regex += "\\" + char
        elif char == "\\" and at + 1 < len(pattern):
            regex, kind, at = regex + "\\" + pattern[at + 1], "regexp", at + 1
        elif char in "[]":
            regex, kind = regex + char, "regexp"
        else:
            regex += char
        at, first = at + 1, False
    if kind == "exact":
        return lambda path: path == pattern
    if kind == "prefix":
        return lambda path: path.startswith(pattern[:-2])
    if kind == "suffix":
        suffix = pattern[2:]
        return lambda path: path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
    compiled = re.compile(regex + "$")
    return lambda path: compiled.match(path) is not None


def dockerignore() -> list[tuple[bool, str, Callable[[str], bool]]]:
    """(is an exception, pattern, matcher), in order, read as moby's ignorefile.ReadAll reads the file."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        text = line.strip()
        exception = text.startswith("!")
        text = os.path.normpath(text.lstrip("!").strip()).lstrip("/")
        patterns.append((exception, text, _compile(text)))
    return patterns


def in_context(path: str) -> bool:
    """Whether the file at `path` (relative, with /) reaches the build: MatchesOrParentMatches, negated."""
    parents = list(PurePosixPath(path).parents)[-2::-1]  # "a", "a/b", ... for "a/b/c"
    excluded = False
    for exception, _, matches in dockerignore():
        if exception != excluded:
            continue
        if matches(path) or any(matches(str(parent)) for parent in parents):
            excluded = not exception
    return not excluded


def context_files() -> Iterator[Path]:
    """The checkout's files that reach the build, walking only folders an exception could reach into."""
    exceptions = [text for exception, text, _ in dockerignore() if exception]
    for folder, subfolders, files in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT).as_posix()
        here = "" if relative == "." else relative + "/"
        subfolders[:] = [
            name
            for name in subfolders
            if in_context(here + name) or any(e.startswith(here + name + "/") for e in exceptions)
        ]
        yield from (Path(folder) / name for name in files if in_context(here + name))


# --- running shopdesk's command line ---------------------------------------------------------------------------


def shopdesk(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run `shopdesk ARGS` with only `env`'s SHOPDESK_* variables set; a `serve` is recorded, not started:
    returns what it was handed (settings, transport, no_auth)."""
    for name in [name for name in os.environ if name.startswith("SHOPDESK_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("SHOPDESK_"):
            monkeypatch.setenv(name, value)
    served: dict[str, Any] = {}

    def serve(settings: Settings, *, transport: str, no_auth: bool = False) -> None:
        served.update(settings=settings, transport=transport, no_auth=no_auth)

    monkeypatch.setattr(serving, "serve", serve)
    monkeypatch.setattr(cli, "configure_logging", lambda *_: None)  # the test run's logging stays as it is
    monkeypatch.setattr(cli, "configure_tracing", lambda: None)
    assert cli.main(args) == 0
    return served


def moved(tmp_path: Path, text: str, folder: str) -> str:
    """A path in the container's `folder`, moved into tmp_path; anything else as it is."""
    return str(tmp_path / text[len(folder) + 1 :]) if text.startswith(folder + "/") else text


def under(tmp_path: Path, env: dict[str, str], folder: str) -> dict[str, str]:
    """`env` with paths in the container's `folder` moved into tmp_path."""
    return {name: moved(tmp_path, value, folder) for name, value in env.items()}


# --- the image -------------------------------------------------------------------------------------------------


def test_the_image_runs_shopdesk_as_a_user_other_than_root() -> None:
    user = instruction(final_stage(), "USER").split(":")[0]
    assert user not in ("", "root", "0")
    assert image_command()[0] == "serve"


def test_the_default_command_serves_stateless_http_on_every_address_of_the_container(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = shopdesk(image_command(), image_env(), monkeypatch)
    settings: Settings = served["settings"]
    assert served["transport"] == "http" and not served["no_auth"]
    assert (settings.host, settings.port, settings.stateless) == ("0.0.0.0", exposed_port(), True)
    assert settings.log_format == "json"
    # Both files in the one folder the image's user owns, the working directory.
    workdir = instruction(final_stage(), "WORKDIR")
    assert settings.auth_file == Path(workdir, "shopdesk.auth.json") and settings.db_path.parent == Path(workdir)


def test_the_default_command_refuses_to_serve_until_the_documented_token_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = under(tmp_path, image_env(), instruction(final_stage(), "WORKDIR"))
    settings = shopdesk(image_command(), env, monkeypatch)["settings"]
    with pytest.raises(SettingsError, match="no auth file at"):
        serving.check_exposure(settings, no_auth=False)
    (make,) = [args for _, _, args in docker_runs() if args[:2] == ["token", "create"]]
    capsys.readouterr()
    shopdesk(make, env, monkeypatch)
    assert capsys.readouterr().out.startswith("sdt_")
    assert settings.auth_path() is not None and settings.auth_path().exists()
    serving.check_exposure(settings, no_auth=False)


def test_the_documented_way_to_run_without_tokens_works_and_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (env, args) = [(env, args) for env, _, args in docker_runs() if "--no-auth-i-know" in args][0]
    container = under(tmp_path, {**image_env(), **env}, instruction(final_stage(), "WORKDIR"))
    served = shopdesk(args, container, monkeypatch)
    assert served["settings"].host == "0.0.0.0" and served["no_auth"]
    serving.check_exposure(served["settings"], no_auth=True)
    with pytest.raises(SettingsError, match="--no-auth-i-know"):
        serving.check_exposure(served["settings"], no_auth=False)


def test_the_documented_docker_runs_publish_on_loopback_and_their_host_header_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published = [(env, ports, args) for env, ports, args in docker_runs() if ports]
    assert len(published) >= 2
    for env, ports, args in published:
        served = shopdesk(args, {**image_env(), **env}, monkeypatch)
        settings: Settings = served["settings"]
        for port in ports:
            host_ip, host_port, container_port = port.split(":")
            assert host_ip == "127.0.0.1" and int(container_port) == settings.port == exposed_port(), port
            allowed = serving.transport_security(settings).allowed_hosts
            assert {f"localhost:{host_port}", f"127.0.0.1:{host_port}"} <= set(allowed), port
            assert settings.mcp_url() == f"http://localhost:{host_port}/mcp"


def test_every_command_the_comments_document_parses() -> None:
    commands = [args for _, _, args in docker_runs()]
    commands += [
        shlex.split(found, comments=True)
        for found in documented((ROOT / "compose.yaml").read_text(), r"docker compose run --rm admin ([a-z][^`\n]*)")
    ]
    assert len(commands) >= 5
    parser = build_parser(Settings())
    for args in commands:
        parsed = parser.parse_args(args)  # exits (and fails the test) on a flag shopdesk does not know
        assert parsed.command in ("serve", "token", "operator", "import-tau2", "export-tau2", "audit"), args


@pytest.mark.slow
def test_the_healthcheck_asks_healthz_with_the_standard_library() -> None:
    options, _, command = instruction(final_stage(), "HEALTHCHECK").partition("CMD ")
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"], "the slim image has no curl or wget"
    url = f"http://127.0.0.1:{image_command()[image_command().index('--port') + 1]}/healthz"
    assert url in argv[2]
    status = {"code": 200}

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status["code"] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    listener = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    code = argv[2].replace(url, f"http://127.0.0.1:{listener.server_port}/healthz")

    def check() -> int:
        return subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, timeout=30).returncode

    try:
        assert check() == 0
        status["code"] = 503  # the database does not answer
        assert check() != 0
    finally:
        listener.shutdown()
        listener.server_close()
    assert check() != 0  # nothing listening
    assert "--timeout=" in options and "--start-period=" in options


# --- the build context -----------------------------------------------------------------------------------------


def wheel_sources() -> set[str]:
    """Every file the wheel is built from, as pyproject.toml's setuptools settings name them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    mapped: dict[str, str] = setuptools.get("package-dir", {})

    def folder_of(package: str) -> str:
        """Where setuptools finds `package`: under the folder of its longest mapped prefix (shopdesk.tools is
        server/tools, as shopdesk is server/), else the folder its dotted name spells."""
        parts = package.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in mapped:
                return "/".join([mapped[prefix], *parts[cut:]])
        return package.replace(".", "/")

    folders = {name: folder_of(name) for name in setuptools["packages"]}
    files = {"pyproject.toml", project["project"]["readme"], *project["project"]["license-files"]}
    for package, folder in folders.items():
        assert (ROOT / folder).is_dir(), folder
        files |= {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).glob("*.py")}
        for pattern in setuptools.get("package-data", {}).get(package, []):
            found = {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).glob(pattern)}
            assert found, f"{package}: nothing matches {pattern}"
            files |= found
    return files


def test_the_build_context_holds_every_file_the_wheel_is_built_from() -> None:
    sources = wheel_sources()
    assert "data/tau2-retail/db.json.gz" in sources and "server/surface/views/order.html" in sources
    assert sorted(path for path in sources if not in_context(path)) == []


def test_the_build_context_leaves_out_what_a_checkout_makes_and_holds() -> None:
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        ".env",
        "views/node_modules/esbuild/package.json",
        "tests/peers/node_modules/node/package.json",
        "bench/.shops/shop-100000.sqlite3",
        "bench/mcp_bench.py",
        "tests/test_cli.py",
        "build/lib/server/app.py",
        "dist/shopdesk_mcp-1.0-py3-none-any.whl",
        "shopdesk_mcp.egg-info/PKG-INFO",
        "server/__pycache__/app.cpython-311.pyc",
        "server/storage/repositories/__pycache__/orders.cpython-311.pyc",
        "data/shopdesk.sqlite3",
        "data/shopdesk.sqlite3-wal",
        "data/shopdesk.auth.json",
        "data/tau2-retail/scratch.sqlite3",
        ".mypy_cache/3.11/server/app.data.json",
        "compose.yaml",
    ):
        assert not in_context(path), path


def test_the_build_context_is_small() -> None:
    files = list(context_files())
    assert ROOT / "server" / "app.py" in files
    assert sum(path.stat().st_size for path in files) < 8_000_000


@pytest.mark.slow
def test_the_wheel_builds_from_what_the_dockerfile_copies(tmp_path: Path) -> None:
    """The build stage's COPY lines, from the context .dockerignore lets through, give a wheel with the data."""
    (build, _) = dockerfile_stages()
    workdir = tmp_path / "src"
    workdir.mkdir()
    context = {path.relative_to(ROOT).as_posix() for path in context_files()}
    for word, rest in build:
        if word != "COPY":
            continue
        *sources, target = shlex.split(rest)
        assert not any(s.startswith("--") for s in sources), "the build stage copies from the context only"
        for source in sources:
            source = source.rstrip("/")
            for path in sorted(p for p in context if p == source or p.startswith(source + "/")):
                if path != source:  # a folder's contents go into the target folder
                    into = workdir / target / Path(path).relative_to(source)
                else:
                    into = workdir / target / Path(path).name if target.endswith("/") else workdir / target
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / path, into)
    out = tmp_path / "wheel"
    out.mkdir()
    wheel = build_wheel(workdir, out)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {
        "shopdesk/__main__.py",
        "shopdesk/bundled_data/tau2-retail/db.json.gz",
        "shopdesk/surface/views/order.html",
    } <= names
    # ... and that is what is installed, with asyncpg, from the context rather than from PyPI.
    assert [rest for word, rest in build if word == "RUN" and "pip install '.[postgres]'" in rest]


# --- compose.yaml ----------------------------------------------------------------------------------------------


def test_compose_sets_only_environment_variables_shopdesk_knows(compose: dict[str, Any]) -> None:
    named = set(image_env())
    for service in services(compose).values():
        named |= set(service.get("environment") or {})
    unknown = sorted(n for n in named if n.startswith("SHOPDESK_") and n not in ENVIRONMENT)
    assert unknown == []
    assert "SHOPDESK_DB" in named and "SHOPDESK_AUTH_FILE" in named


@pytest.mark.slow
def test_the_replicas_serve_stateless_http_on_one_postgresql_database(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    found = replicas(compose)
    assert len(found) >= 2
    databases = set()
    for name, service in found.items():
        served = shopdesk(service.get("command") or image_command(), compose_env(service), monkeypatch)
        settings: Settings = served["settings"]
        assert served["transport"] == "http" and not served["no_auth"], name
        assert (settings.host, settings.stateless) == ("0.0.0.0", True), name
        assert settings.db_url is not None and settings.db_url.startswith("postgresql://"), name
        assert urlsplit(settings.db_url).password is None, "the password comes from PGPASSWORD"
        assert "PGPASSWORD" in service["environment"]
        databases.add(settings.db_url)
        database = services(compose)[urlsplit(settings.db_url).hostname]
        assert service["depends_on"][urlsplit(settings.db_url).hostname]["condition"] == "service_healthy"
        assert database["image"].startswith("postgres:")
        assert urlsplit(settings.db_url).username == database["environment"]["POSTGRES_USER"]
        assert urlsplit(settings.db_url).path == "/" + database["environment"]["POSTGRES_DB"]
    assert len(databases) == 1


def test_the_replicas_are_the_same_but_for_their_names(compose: dict[str, Any]) -> None:
    def alike(service: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in service.items() if key not in ("hostname", "build")}

    found = list(replicas(compose).values())
    assert all(alike(service) == alike(found[0]) for service in found)
    assert {service.get("hostname") for service in found} == set(replicas(compose))


@pytest.mark.slow
def test_postgres_is_checked_with_pg_isready_and_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    database = services(compose)["postgres"]
    assert database["image"] == "postgres:16"
    assert database["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "ports" not in database, "reachable on the project's network only"
    (source, _) = volume_mounts(database)["/var/lib/postgresql/data"]
    assert source in compose["volumes"]


def test_published_ports_are_bound_to_loopback_on_the_host(compose: dict[str, Any]) -> None:
    published = [port for service in services(compose).values() for port in service.get("ports") or []]
    assert published, "nginx is published"
    assert [port for port in published if not port.startswith("127.0.0.1:")] == []
    assert [name for name, service in replicas(compose).items() if "ports" in service] == []


def test_the_replicas_share_the_auth_file_that_admin_writes(
    compose: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    helper = admin(compose)
    folder = str(PurePosixPath(compose_env(helper)["SHOPDESK_AUTH_FILE"]).parent)
    (volume, mode) = volume_mounts(helper)[folder]
    assert volume in compose["volumes"] and mode == "rw"
    assert "admin" in helper["profiles"], "not started by `up`"
    for name, service in replicas(compose).items():
        assert compose_env(service)["SHOPDESK_AUTH_FILE"] == compose_env(helper)["SHOPDESK_AUTH_FILE"], name
        assert volume_mounts(service)[folder] == (volume, "ro"), name
    # The image makes the mount point its user's, so a new volume mounted there is writable by that user.
    assert any(word == "RUN" and f"mkdir {folder}" in rest and "chown" in rest for word, rest in final_stage())
    # The token the comments say to make, made as `admin` would, lets every replica start.
    (make,) = [
        shlex.split(found, comments=True)
        for found in documented(
            (ROOT / "compose.yaml").read_text(), r"docker compose run --rm admin (token create[^`\n]*)"
        )
    ]
    capsys.readouterr()
    shopdesk([moved(tmp_path, arg, folder) for arg in make], under(tmp_path, compose_env(helper), folder), monkeypatch)
    assert capsys.readouterr().out.startswith("sdt_")
    for service in replicas(compose).values():
        env = under(tmp_path, compose_env(service), folder)
        serving.check_exposure(shopdesk(service["command"], env, monkeypatch)["settings"], no_auth=False)


def test_the_replicas_accept_the_host_header_nginx_passes_on(
    compose: dict[str, Any], nginx: list[Directive], monkeypatch: pytest.MonkeyPatch
) -> None:
    (published,) = nginx_service(compose)["ports"]
    host_ip, host_port, container_port = published.split(":")
    assert [["Host", "$http_host"]] == [
        d for d in directives(blocks(nginx, "server")[0], "proxy_set_header") if d[0] == "Host"
    ]
    for name, service in replicas(compose).items():
        settings: Settings = shopdesk(service["command"], compose_env(service), monkeypatch)["settings"]
        assert settings.mcp_url() == f"http://localhost:{host_port}/mcp", name
        allowed = serving.transport_security(settings).allowed_hosts
        assert {f"localhost:{host_port}", f"{host_ip}:{host_port}"} <= set(allowed), name
    assert directives(blocks(nginx, "server")[0], "listen") == [[container_port]]


def test_nginx_balances_the_replicas_round_robin_without_buffering_event_streams(
    compose: dict[str, Any], nginx: list[Directive], monkeypatch: pytest.MonkeyPatch
) -> None:
    (upstream,) = [words for words, children in nginx if words[0] == "upstream"]
    (pool,) = blocks(nginx, *upstream)
    ports = {
        name: shopdesk(s["command"], compose_env(s), monkeypatch)["settings"].port
        for name, s in replicas(compose).items()
    }
    assert {d[0] for d in directives(pool, "server")} == {f"{name}:{port}" for name, port in ports.items()}
    assert not [w for w, _ in pool if w[0] in ("ip_hash", "hash", "least_conn", "random", "sticky")]
    (server_block,) = blocks(nginx, "server")
    (mcp,) = blocks(server_block, "location", "/mcp")
    assert directives(mcp, "proxy_pass") == [[f"http://{upstream[1]}"]]
    assert directives(mcp, "proxy_buffering") == [["off"]]
    assert not directives(mcp, "proxy_set_header"), "a location's own proxy_set_header would drop the server's Host"
    assert all("non_idempotent" not in d for d in directives(server_block, "proxy_next_upstream"))
    service = nginx_service(compose)
    assert volume_mounts(service)["/etc/nginx/conf.d/default.conf"] == ("./deploy/nginx.conf", "ro")
    assert set(service["depends_on"]) == set(replicas(compose))


def location_for(server_block: list[Directive], path: str) -> list[Directive]:
    """The location block nginx picks for `path`: exact, then regular expressions, then the longest prefix."""
    found = {tuple(w[1:]): c for w, c in server_block if w[0] == "location" and c is not None}
    exact = [c for w, c in found.items() if w[0] == "=" and w[1] == path]
    regex = [c for w, c in found.items() if w[0] == "~" and re.search(w[1], path)]
    prefix = sorted((w[0], c) for w, c in found.items() if len(w) == 1 and path.startswith(w[0]))
    return (exact or regex or [prefix[-1][1]])[0]


def test_nginx_passes_the_oauth_servers_paths_to_the_replicas(nginx: list[Directive]) -> None:
    # With SHOPDESK_OAUTH_SERVER=1 (docs/deployment.md) a browser and the client reach these through nginx.
    (server_block,) = blocks(nginx, "server")
    (upstream,) = [words for words, children in nginx if words[0] == "upstream"]
    paths = ["/.well-known/oauth-authorization-server", "/authorize", "/token", "/register", "/revoke"]
    for path in [*paths, "/oauth/consent", "/oauth/signin"]:
        assert directives(location_for(server_block, path), "proxy_pass") == [[f"http://{upstream[1]}"]], path
    assert not directives(location_for(server_block, "/metrics"), "proxy_pass")


def test_the_compose_reader_refuses_what_it_does_not_read() -> None:
    assert read_compose('a:\n  b: "x # y"  # z\n  c: ["p", "q"]\n  d:\n    - 1:2\n') == {
        "a": {"b": "x # y", "c": ["p", "q"], "d": ["1:2"]}
    }
    for text in (
        "a: &x 1\n",
        "a: *x\n",
        "a: |\n  x\n",
        "a:\n  - b: 1\n",
        "a: {b: 1}\n",
        "a: 1\na: 2\n",
        "a:\n\tb: 1\n",
    ):
        with pytest.raises(ComposeSyntaxError):
            read_compose(text)
