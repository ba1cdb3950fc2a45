"""`idp audit ...`: verify the audit log's hash chain and export its head (docs/architecture.md §11),
and show or rotate the key that signs the log's checkpoints (`idp audit key`).

`verify` exits 0 on an intact chain and 1 naming the first bad event; run it on a schedule
and alert on exit 1. Publish `head --json` to a witness outside the database (docs/audit.md)
and pass the witnessed heads back with `verify --witness SEQ:HASH`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse
from idp.services.platform import audit_key, audit_verify
from idp.services.platform.audit_verify import ChainReport, Witness

WITNESS_RE = re.compile(r"([0-9]{1,18}):([0-9a-fA-F]{64})")


class WitnessParam(click.ParamType):
    name = "SEQ:HASH"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> Witness:
        if isinstance(value, Witness):
            return value
        match = WITNESS_RE.fullmatch(str(value).strip())
        if match is None:
            self.fail("expected SEQ:HASH, a seq number and a 64-hex-digit SHA-256 "
                      "(as printed by `idp audit head`)", param, ctx)
        return Witness(int(match.group(1)), match.group(2).lower())


@click.group(help="Verify the hash-chained audit log, export its head, manage its signing key.")
def audit() -> None:
    pass


@audit.command("verify")
@click.option("--witness", "witnesses", type=WitnessParam(), multiple=True,
              help="A head recorded earlier (SEQ:HASH); the event at SEQ must still have HASH. "
                   "Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@with_appcontext
def verify_command(witnesses: tuple[Witness, ...], as_json: bool) -> None:
    """Recompute every event's hash in seq order and check the links, the head row and the
    witnesses. Exit 0 if intact, 1 naming the first bad event."""
    report = audit_verify.verify_chain(witnesses=witnesses)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        if not report.ok:
            raise click.exceptions.Exit(1)
        return
    if not report.ok:
        refuse(_broken_line(report))
    click.echo(f"audit chain intact: {report.events_checked} events checked, "
               f"head seq {report.head_seq} hash {report.head_hash}"
               + (f", {len(witnesses)} witness(es) matched" if witnesses else ""))


@audit.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print the head as one JSON object.")
@with_appcontext
def head_command(as_json: bool) -> None:
    """Print the chain head (seq, hash, time) for an external witness to record."""
    head = audit_verify.chain_head()
    updated = _iso(head.updated_at)
    if as_json:
        click.echo(json.dumps({"seq": head.seq, "hash": head.hash, "updated_at": updated}))
    else:
        click.echo(f"seq {head.seq} hash {head.hash} at {updated or '-'}")


@audit.group("key", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True,
              help="Print {\"origin\": ..., \"verifier_keys\": [...]} as one JSON object.")
@click.pass_context
@with_appcontext
def key_group(ctx: click.Context, as_json: bool) -> None:
    """Print the verifier keys of the checkpoint signing key, current first, then the previous
    ones (witnesses need them to check old checkpoints); creates the key on first use."""
    if ctx.invoked_subcommand is not None:
        return
    audit_key.ensure_key()
    verifiers = audit_key.verifier_keys()
    if as_json:
        click.echo(json.dumps({"origin": audit_key.key_name(), "verifier_keys": verifiers}))
    else:
        for line in verifiers:
            click.echo(line)


@key_group.command("rotate")
@click.option("--json", "as_json", is_flag=True,
              help="Print {\"kid\": ..., \"verifier_key\": ...} as one JSON object.")
@with_appcontext
def key_rotate_command(as_json: bool) -> None:
    """Make a new checkpoint signing key and print its verifier key; the old key stays
    published for checking the checkpoints it signed."""
    new = audit_key.rotate()
    verifier = audit_key.verifier_keys()[0]
    if as_json:
        click.echo(json.dumps({"kid": new.kid, "verifier_key": verifier}))
    else:
        click.echo(verifier)


def _broken_line(report: ChainReport) -> str:
    where = f"seq {report.bad_seq}" if report.bad_seq is not None else "the chain head"
    row = f" (row id {report.bad_row_id})" if report.bad_row_id is not None else ""
    return (f"audit chain broken at {where}{row}: {report.reason}: {report.detail}; "
            f"{report.events_checked} events verified")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds") if moment else None
