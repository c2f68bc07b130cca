"""The `sentiment` command: a thin layer over the library.

Each command parses its options, calls one library function and turns a
library error into a one-line message and exit code 1 (usage errors exit 2).
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import RecordError, SentimentError
from .schedule import EXIT_PARTIAL  # 3: stopped early, kept what it got

STORE_OPTION = click.option(
    "--store", type=click.Path(dir_okay=False, path_type=Path), envvar="SENTIMENT_STORE", show_envvar=True,
    default=Path("data") / "sentiment.sqlite", show_default=True, help="The SQLite post store.",
)
TOPIC_OPTION = click.option(
    "--topic", default=None, envvar="SENTIMENT_TOPIC", show_envvar=True,
    help="Topic name (a folder under ./data/topics or a shipped topic) or a topic folder path. "
    "Default: the shipped paris_declaration topic.",
)


MODEL_OPTION = click.option(
    "--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="A model file from `sentiment train` (default: the topic's model, trained on its examples).",
)


class UtcTime(click.ParamType):
    """An ISO 8601 time with a timezone ('2026-01-06T00:00:00Z'); naive times are refused."""

    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        from .normalize import parse_time

        try:
            return parse_time(value, "time")
        except RecordError as exc:
            self.fail(str(exc), param, ctx)


def _progress(ctx: click.Context) -> Any:
    """A progress-bar factory for the library, or None when quiet."""
    if ctx.find_root().obj.get("quiet"):
        return None
    from tqdm import tqdm

    def factory(desc: str, total: int | None, unit: str) -> Any:
        scale = unit == "B"
        # tqdm hides itself when stderr is not a terminal (cron, CI, pipes).
        return tqdm(desc=desc, total=total, unit=unit, unit_scale=scale, unit_divisor=1024 if scale else 1000,
                    leave=False, disable=None, file=sys.stderr)

    return factory


def _say(ctx: click.Context, message: str) -> None:
    if not ctx.find_root().obj.get("quiet"):
        click.echo(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sentiment")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """What people on X say about an event: import or collect posts, classify
    their stance, and report each group's share with evidence."""
    ctx.obj = {"quiet": quiet, "verbose": verbose}
    level = logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    _stop_cleanly_on_sigterm()


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (systemd or cron stopping a run) unwinds like Ctrl-C, so no temporary file or folder stays behind."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def stop(signum: int, frame: Any) -> None:
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, stop)


def _fail_on_library_error(func: Any) -> Any:
    """Turn a library error into click's one-line error and its exit code (1; 2 for a bad config)."""
    import functools
    import sqlite3

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SentimentError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from None
        except sqlite3.DatabaseError as exc:
            raise click.ClickException(f"the store cannot be read ({exc}); restore it from a backup, or "
                                       "re-import its posts into a new one") from None
        except OSError as exc:  # a folder we may not write, a disk that is full...
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None

    return wrapper


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@STORE_OPTION
@TOPIC_OPTION
@click.option("--strict", is_flag=True, help="Fail the whole file on any unusable post instead of skipping it.")
@click.pass_context
@_fail_on_library_error
def import_command(ctx: click.Context, files: tuple[Path, ...], store: Path, topic: str | None, strict: bool) -> None:
    """Import posts from files: X API v2 pages (JSON/JSONL), twarc2 JSONL, flat JSONL, CSV or Parquet.

    The format is detected from the content. Each file is imported in one
    transaction: a file that cannot be read changes nothing. Unusable posts
    are skipped and counted (or fail the file with --strict).
    """
    from .pipeline import import_files
    from .store import Store
    from .topic import load_topic

    topic_obj = load_topic(topic)
    with Store(store) as db:
        for result in import_files(db, files, topic=topic_obj, strict=strict, progress=_progress(ctx)):
            path = result.path
            for rejection in result.rejections[:10]:
                where = f"{path}, line {rejection.line}" if rejection.line else str(path)
                click.echo(f"warning: {where}: skipped: {rejection.problem}", err=True)
            if result.rejected > 10:
                click.echo(f"warning: {path}: {result.rejected - 10} more posts skipped", err=True)
            dup = f", {result.duplicates_in_file} repeated ids in the file" if result.duplicates_in_file else ""
            _say(ctx, f"{path} ({result.format}): {result.new} new, {result.updated} updated, "
                      f"{result.unchanged} unchanged, {result.rejected} rejected{dup}")


@main.command("export")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Destination file, .jsonl, .csv or .parquet.")
@click.option("--since", type=UtcTime(), help="Only posts at or after this time (ISO 8601 with timezone).")
@click.option("--until", type=UtcTime(), help="Only posts before this time.")
@click.option("--topic", default=None, help="Only posts gathered for this topic (default: all posts).")
@STORE_OPTION
@click.pass_context
@_fail_on_library_error
def export_command(ctx: click.Context, output: Path, since: datetime | None, until: datetime | None,
                   topic: str | None, store: Path) -> None:
    """Write every stored post once, with its id, to a .jsonl, .csv or .parquet file."""
    from .pipeline import export_posts
    from .store import Store

    with Store(store) as db:
        n = export_posts(db, output, topic=topic, since=since, until=until)
    _say(ctx, f"exported {n} posts to {output}")


@main.command("classify")
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="Destination CSV: id,label,confidence,p_<group>... (with --engine: a folder of Parquet files).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default=None,
              help="Classify a Parquet dataset (a file, a folder or a glob) partition by partition, here or on a "
                   "Dask cluster, and print the group shares.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --engine dask: a running Dask scheduler (tcp://host:8786); default: a local cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="With --engine dask and no --scheduler: worker processes of the local cluster.")
@TOPIC_OPTION
@MODEL_OPTION
@click.pass_context
@_fail_on_library_error
def classify_command(ctx: click.Context, input: Path, output: Path, engine: str | None, scheduler: str | None,
                     workers: int, topic: str | None, model_path: Path | None) -> None:
    """Classify the posts of any importable file (without storing them).

    Output columns: id, label, confidence, p_<group> per group, sentiment
    (VADER compound, English posts only). With --engine, INPUT is a Parquet
    dataset (as `sentiment export --output FILE.parquet` writes) and OUTPUT a
    folder of one Parquet file per partition; the shares are computed from
    the partitions' totals.
    """
    from .classify import load_model
    from .pipeline import classify_file

    model = load_model(model_path) if model_path else None
    if engine is None:
        if scheduler:
            raise click.UsageError("--scheduler needs --engine dask")
        n, rejected = classify_file(input, output, topic=topic, model=model, progress=_progress(ctx))
        for rejection in rejected[:10]:
            click.echo(f"warning: {input}, line {rejection.line}: skipped: {rejection.problem}", err=True)
        _say(ctx, f"classified {n} posts into {output}" + (f" ({len(rejected)} skipped)" if rejected else ""))
        return
    from .classify import topic_model
    from .distributed import classify_dataset
    from .topic import load_topic

    chosen = load_topic(topic)
    if engine == "dask" and not ctx.obj.get("verbose"):
        # The cluster's own start and stop messages; dask sets its loggers' levels when imported, so import first.
        try:
            import distributed  # noqa: F401
        except ImportError:
            pass  # classify_dataset says how to install it
        logging.getLogger("distributed").setLevel(logging.WARNING)
    result = classify_dataset(input, output, model=model or topic_model(chosen), group_ids=chosen.group_ids,
                              engine=engine, scheduler=scheduler, n_workers=workers, progress=_progress(ctx))
    for rejection in result.rejections:
        click.echo(f"warning: skipped {rejection}", err=True)
    _say(ctx, f"classified {result.n_posts} posts in {result.n_partitions} partitions into {output}"
              + (f" ({result.n_rejected} skipped)" if result.n_rejected else ""))
    names = {g.id: g.name for g in chosen.groups}
    for gid, share in result.summary.groups.items():
        click.echo(f"{names.get(gid, gid)}: {share.share:.1%} (95% interval {share.ci[0]:.1%}–{share.ci[1]:.1%}; "
                   f"{share.n} posts labeled)")


@main.command("report")
@click.option("--since", type=UtcTime(), help="Window start (ISO 8601 with timezone); default: the topic's.")
@click.option("--until", type=UtcTime(), help="Window end (exclusive); default: the topic's.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder under which the dated report folder is written.")
@click.option("--copies", type=click.Choice(["all", "once"]), default="all", show_default=True,
              help="Count near-copies (campaigns) every time, or once per group of copies.")
@click.option("--include-reposts", is_flag=True, help="Count reposts in shares and themes (left out by default).")
@TOPIC_OPTION
@MODEL_OPTION
@STORE_OPTION
@click.pass_context
@_fail_on_library_error
def report_command(ctx: click.Context, since: datetime | None, until: datetime | None, out_dir: Path,
                   copies: str, include_reposts: bool, topic: str | None, model_path: Path | None,
                   store: Path) -> None:
    """Classify the stored posts of the window and write a report folder."""
    from .pipeline import model_for, report
    from .store import Store
    from .topic import load_topic

    topic_obj = load_topic(topic)
    model = model_for(topic_obj, model_path)
    with Store(store) as db:
        folder = report(db, topic_obj, since=since, until=until, out_dir=out_dir, model=model, copies=copies,
                        include_reposts=include_reposts, progress=_progress(ctx))
    _say(ctx, f"report written to {folder}")


@main.command("run")
@click.option("--input", "inputs", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Import these files instead of the topic's sample corpus (repeatable).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Folder under which the dated report folder is written.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Run as configured in this TOML file (see `sentiment init`): collect, report, prune, log.")
@click.option("--wait", is_flag=True, help="With --config: wait for another run to finish instead of exiting 4.")
@TOPIC_OPTION
@MODEL_OPTION
@STORE_OPTION
@click.pass_context
@_fail_on_library_error
def run_command(ctx: click.Context, inputs: tuple[Path, ...], out_dir: Path, config_path: Path | None, wait: bool,
                topic: str | None, model_path: Path | None, store: Path) -> None:
    """The main job: import posts, classify them and write a report.

    With no --input it imports the topic's shipped sample corpus, so it runs
    offline with no X account. With --config it is a scheduled run, safe to
    call from cron every hour: exit 0 success, 1 failure, 2 usage error,
    3 partial (report written, collection stopped early), 4 another run
    holds the store's lock.
    """
    from .pipeline import run

    if config_path is not None:
        if inputs or model_path:
            raise click.UsageError("--config runs as the file says; leave out --input and --model")
        _scheduled(ctx, config_path, wait)
        return

    result = run(topic=topic, store=store, inputs=inputs or None, out_dir=out_dir, model=model_path,
                 progress=_progress(ctx))
    for imp in result.imports:
        _say(ctx, f"imported {imp.path}: {imp.new} new, {imp.updated} updated, {imp.unchanged} unchanged, "
                  f"{imp.rejected} rejected")
    _say(ctx, f"classified {result.n_posts} posts; report written to {result.report}")
    for path in sorted(result.report.iterdir(), key=lambda p: (p.name != "report.pdf", p.suffix != ".png", p.name)):
        _say(ctx, f"  {path}")


@main.command("train")
@click.argument("examples", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model file.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A StanceClassifier parameter, e.g. --param C=4 --param char_ngram_range=(2,5).")
@TOPIC_OPTION
@click.pass_context
@_fail_on_library_error
def train_command(ctx: click.Context, examples: Path | None, output: Path | None, params: tuple[str, ...],
                  topic: str | None) -> None:
    """Train a stance model.

    With EXAMPLES (a CSV or TSV with text and label columns, any label names)
    and --output: train on that file and write the model there. With --topic
    and no EXAMPLES: (re)build that topic's own model from its examples file,
    the model report and run use (and also write it to --output if given).
    """
    from .classify import save_model, topic_model
    from .pipeline import train
    from .topic import load_topic

    if examples is not None:
        if output is None:
            raise click.UsageError("give --output MODEL for the trained model")
        model = train(examples, output, allowed_labels=load_topic(topic).group_ids if topic else None,
                      params=_estimator_params(params))
        where = str(output)
    else:
        if topic is None:
            raise click.UsageError("give an EXAMPLES file, or --topic NAME to build that topic's model")
        if params:
            raise click.UsageError("--param applies to a model trained from an EXAMPLES file")
        topic_obj = load_topic(topic)
        model = topic_model(topic_obj)
        where = f"the {topic_obj.name} model cache"
        if output is not None:
            save_model(model, output, trained_on=str(topic_obj.examples))
            where = str(output)
    labels = ", ".join(map(str, model.classes_))
    _say(ctx, f"trained on {_examples_count(model)} examples "
              f"({labels}); model in {where}")


def _examples_count(model: Any) -> str:
    return "its" if model.n_examples_ is None else f"{model.n_examples_:,}"  # None: an old model without CV


def _estimator_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    import ast

    from .classify import StanceClassifier

    known = StanceClassifier().get_params()
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in known:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE with NAME one of {', '.join(sorted(known))}",
                                     param_hint="--param")
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[name] = value  # a plain word, such as class_weight=balanced
    return out


@main.command("evaluate")
@click.argument("examples", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@TOPIC_OPTION
@MODEL_OPTION
@click.pass_context
@_fail_on_library_error
def evaluate_command(ctx: click.Context, examples: Path | None, as_json: bool, topic: str | None,
                     model_path: Path | None) -> None:
    """Score a model on labeled posts (CSV/TSV with text, label and optional lang).

    Prints per-group precision, recall and F1, macro-F1, the confusion matrix,
    per-language figures and the error of the group shares. Without EXAMPLES
    it cross-validates (5 folds, or fewer if a group has fewer examples) on the topic's own examples.
    """
    import json as json_module

    from .classify import load_model
    from .pipeline import evaluate_examples
    from .topic import load_topic

    if examples is None and model_path is not None:
        raise click.UsageError("cross-validation uses the topic's examples; give EXAMPLES to score --model")
    topic_obj = load_topic(topic)
    model = load_model(model_path) if model_path else None
    result = evaluate_examples(examples, topic=topic_obj, model=model)
    click.echo(json_module.dumps(result.to_dict(), indent=2) if as_json else result.to_text())


@main.command("label")
@click.option("--n", "n", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many posts to label in this round.")
@TOPIC_OPTION
@STORE_OPTION
@click.pass_context
@_fail_on_library_error
def label_command(ctx: click.Context, n: int, topic: str | None, store: Path) -> None:
    """Label the stored posts the model is least sure of, then retrain.

    Each post is shown with the model's guess. Type the group's number (or
    its name), s to skip, u to undo the last label, q to quit. Every label is
    written to the topic's examples file at once, so quitting loses nothing.
    An installed topic is first copied to ./data/topics/NAME.
    """
    import textwrap

    from .label import LabelSession
    from .store import Store
    from .topic import load_topic

    with Store(store) as db:
        session = LabelSession(load_topic(topic), db, n=n)
    groups = session.groups
    if session.current() is None:
        click.echo("nothing to label: no stored posts of this topic that are not already examples")
        return
    keys = "  ".join(f"[{i}] {g}" for i, g in enumerate(groups, start=1)) + "  [s]kip  [u]ndo  [q]uit"
    click.echo(f"labeling up to {len(session.candidates)} posts into {session.topic.examples}")
    while (candidate := session.current()) is not None:
        post = candidate.post
        click.echo("\n" + "-" * 72)
        when = f"  {post.created_at:%Y-%m-%d %H:%M} UTC" if post.created_at else ""
        click.echo(f"{session.position + 1}/{len(session.candidates)}  @{post.author_username or '?'}  "
                   f"{post.lang or '?'}{when}")
        click.echo(textwrap.fill(post.text, 72))
        click.echo(f"model's guess: {candidate.guess} ({candidate.confidence:.0%})")
        try:
            answer = click.prompt(keys, default="", show_default=False).strip().lower()
        except (click.Abort, EOFError):
            answer = "q"
        if answer in ("q", "quit"):
            break
        if answer in ("s", "skip", ""):
            session.skip()
        elif answer in ("u", "undo"):
            back = session.undo()
            click.echo("nothing to undo" if back is None else "took back the last label")
        elif answer.isdigit() and 1 <= int(answer) <= len(groups):
            session.label(groups[int(answer) - 1])
        elif answer in groups:
            session.label(answer)
        else:
            click.echo(f"{answer!r}? " + keys)
    if not session.added:
        click.echo("no labels added")
        return
    click.echo(f"\nadded {len(session.added)} labels to {session.topic.examples}; retraining...")
    model = session.retrain()
    click.echo(f"the model now learns from {_examples_count(model)} examples")




@main.command("collect")
@click.option("--query", default=None, help="X search query (default: the topic's).")
@click.option("--since", type=UtcTime(), help="Window start, ISO 8601 with timezone (default: the topic's window, "
              "as far as the endpoint reaches).")
@click.option("--until", type=UtcTime(), help="Window end (exclusive).")
@click.option("--since-id", default=None, help="Only posts newer than this post id.")
@click.option("--lang", "langs", multiple=True, help="Only posts in this language (repeatable: --lang en --lang fr).")
@click.option("--archive", is_flag=True, help="Full-archive search (any date; paced to one request a second).")
@click.option("--max-posts", type=click.IntRange(min=10), default=None,
              help="Hard budget: read at most this many posts (X bills per post read).")
@click.option("--dry-run", is_flag=True, help="Count the matching posts and print the cost; read no post.")
@click.option("--include-reposts", is_flag=True, help="Do not add -is:retweet to the query.")
@TOPIC_OPTION
@STORE_OPTION
@click.pass_context
@_fail_on_library_error
def collect_command(ctx: click.Context, query: str | None, since: datetime | None, until: datetime | None,
                    since_id: str | None, langs: tuple[str, ...], archive: bool, max_posts: int | None,
                    dry_run: bool, include_reposts: bool, topic: str | None, store: Path) -> None:
    """Collect posts from the X API v2 into the store (needs X_BEARER_TOKEN).

    Every page is stored before the next is requested. An interrupted run
    resumes where it stopped when run again with the same query and window;
    a later run reads only posts newer than those already collected. Exit
    code 3 means X's usage cap stopped the run (what was read is kept).
    """
    from .collect import Prices, build_query, collect, default_window, estimate
    from .store import Store
    from .topic import load_topic
    from .xapi import XApi

    topic_obj = load_topic(topic)
    full_query = build_query(query or topic_obj.query, languages=langs, include_reposts=include_reposts,
                             archive=archive)
    if since is None and until is None:
        since, until = default_window(topic_obj.start, topic_obj.end, archive=archive)
    prices = Prices.from_env()
    api = XApi()
    if dry_run:
        est = estimate(api, query=full_query, since=since, until=until, archive=archive, max_posts=max_posts,
                       prices=prices)
        click.echo(f"query: {est.query}")
        click.echo(f"matching posts: {est.posts:,}")
        click.echo(f"posts to read: {est.to_read:,}" + (f" (budget {max_posts:,})" if max_posts else ""))
        click.echo(f"estimated cost: {est.cost_posts + est.cost_counts:.2f} {est.currency} "
                   f"({est.to_read:,} posts x {prices.per_post_read} + {est.count_requests} counts request(s) "
                   f"x {prices.per_counts_request})")
        return
    with Store(store) as db:
        result = collect(db, api, query=full_query, since=since, until=until, since_id=since_id, archive=archive,
                         max_posts=max_posts, topic=topic_obj.name, prices=prices, progress=_progress(ctx))
    verb = "resumed and collected" if result.resumed else "collected"
    skipped = f", {result.rejected:,} skipped as unreadable" if result.rejected else ""
    _say(ctx, f"{verb} {result.posts_read:,} posts ({result.posts_new:,} new{skipped}) in {result.pages} pages, "
              f"{result.requests} requests, ~{result.cost:.2f} {prices.currency}")
    if result.api_errors:
        click.echo(f"warning: the X API reported {len(result.api_errors)} error(s) inside its answers; they are "
                   "stored with the pages", err=True)
    if result.message:
        click.echo(("warning: " if result.status != "usage_cap" else "") + result.message, err=True)
    if result.status == "usage_cap":
        ctx.exit(EXIT_PARTIAL)


def _scheduled(ctx: click.Context, config_path: Path, wait: bool) -> None:
    from .schedule import load_config, scheduled_run

    config = load_config(config_path)
    outcome = scheduled_run(config, wait=None if wait else 0, progress=_progress(ctx))
    if outcome.exit_code == 4:
        click.echo(f"sentiment: {outcome.message}", err=True)
        ctx.exit(4)
    _say(ctx, f"{outcome.outcome}: {outcome.posts_new} new posts; {outcome.posts_in_window} in the window; "
              f"report {outcome.report}")
    if outcome.message:
        click.echo(f"warning: {outcome.message}", err=True)
    ctx.exit(outcome.exit_code)


@main.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=Path("sentiment.toml"))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
@_fail_on_library_error
def init_command(ctx: click.Context, path: Path, force: bool) -> None:
    """Write a commented example run configuration (default: sentiment.toml)."""
    from .schedule import write_example_config

    write_example_config(path, force=force)
    _say(ctx, f"wrote {path}; edit it, then: sentiment run --config {path}")


@main.command("status")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A run configuration (its store, reports and window).")
@STORE_OPTION
@TOPIC_OPTION
@click.pass_context
@_fail_on_library_error
def status_command(ctx: click.Context, config_path: Path | None, store: Path, topic: str | None) -> None:
    """Posts per day in the store, the last collection, the last report and the next window."""
    import json as json_module
    from datetime import timezone

    from .schedule import load_config
    from .store import Store

    config = load_config(config_path) if config_path else None
    store_path = config.store if config else store
    if not store_path.exists():
        raise SentimentError(f"{store_path}: no store yet (run `sentiment run` or `sentiment collect` first)")
    topic_name = (config.topic if config else topic) or None
    with Store(store_path) as db:
        days = db.posts_per_day(None if topic_name is None else _topic_name(topic_name))
        last = db.last_run()
        total = db.count()
    click.echo(f"store: {store_path} ({total:,} posts)")
    click.echo("posts per day (UTC):" if days else "posts per day: none with a time")
    for day, n in days:
        click.echo(f"  {day}  {n:>8,}")
    if last:
        click.echo(f"last collection: started {last['started_at']}, {last['status']}, {last['n_posts']:,} posts read "
                   f"({last['n_new']:,} new), last activity {last['updated_at']}")
    else:
        click.echo("last collection: none")
    if config and config.log_file and config.log_file.exists():
        lines = config.log_file.read_text(encoding="utf-8").strip().splitlines()
        if lines:
            record = json_module.loads(lines[-1])
            click.echo(f"last run: {record['start']} {record['outcome']} (exit {record['exit_code']}); "
                       f"report {record['report']}")
    if config:
        latest = config.output / "latest"
        click.echo(f"latest report: {latest.resolve() if latest.exists() else 'none'}")
        start, end = config.window(datetime.now(timezone.utc))
        what = f"the {config.window_last} before the run" if config.window_last else "a fixed range"
        click.echo(f"next window: {what} (now {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC)")


def _topic_name(name: str) -> str:
    from .topic import load_topic

    return load_topic(name).name


@main.command("topics")
@click.pass_context
@_fail_on_library_error
def topics_command(ctx: click.Context) -> None:
    """List the topics that --topic can name, and where they live."""
    from .topic import available_topics

    for name, folder in available_topics().items():
        click.echo(f"{name}\t{folder}")


if __name__ == "__main__":  # pragma: no cover
    main()
