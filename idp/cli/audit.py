"""`idp audit ...`: seal the audit log into its Merkle tree, verify it, print its signed
checkpoints and proofs for witnesses (docs/audit.md), and show or rotate the key that signs the
checkpoints (`idp audit key`).

`verify` exits 0 on an intact log and 1 naming the first bad event or leaf; run it on a
schedule and alert on exit 1. Give `checkpoint` notes to witnesses outside the database and pass
the kept notes back with `verify --witness FILE`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse
from idp.services.platform import audit_key, audit_proof, audit_seal, audit_verify
from idp.services.platform.audit_verify import LogReport


@click.group(help="Seal and verify the audit log, print checkpoints and proofs, manage its key.")
def audit() -> None:
    pass


@audit.command("seal")
@click.option("--loop", is_flag=True, help="Keep sealing until interrupted.")
@click.option("--interval", type=click.FloatRange(min=0.01), default=0.25, show_default=True,
              help="Seconds to wait when there is nothing to seal (with --loop).")
@click.option("--batch", type=click.IntRange(min=1), default=audit_seal.BATCH_SIZE,
              show_default=True, help="Events per batch (one checkpoint each).")
@with_appcontext
def seal_command(loop: bool, interval: float, batch: int) -> None:
    """Seal the committed events into the Merkle tree and sign a checkpoint per batch. Several
    sealers may run: one seals at a time."""
    try:
        if not loop:
            sealed = audit_seal.seal_all(batch)
            click.echo(f"sealed {sealed} events")
            return
        while True:
            if audit_seal.seal_once(batch) == 0:
                time.sleep(interval)
    except audit_seal.LegacyChainBroken as broken:
        refuse(f"not sealed: {broken}")
    except KeyboardInterrupt:
        return


@audit.command("verify")
@click.option("--witness", "witnesses", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              multiple=True, help="A file holding a checkpoint note kept by a witness; the tree "
                                  "at its size must still have its root. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@with_appcontext
def verify_command(witnesses: tuple[Path, ...], as_json: bool) -> None:
    """Recompute every leaf from its event and the tree at every signed checkpoint. Exit 0 if
    intact, 1 naming the first bad event or leaf."""
    notes = [path.read_text(encoding="utf-8") for path in witnesses]
    report = audit_verify.verify_log(witnesses=notes)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        if not report.ok:
            raise click.exceptions.Exit(1)
        return
    if not report.ok:
        refuse(_broken_line(report))
    age = report.unsealed_oldest_age_seconds
    click.echo(f"audit log intact: {report.events_checked} events checked, "
               f"{report.checkpoints_checked} checkpoints, tree size {report.tree_size} root "
               f"{report.root_hash}; {report.unsealed} unsealed"
               + (f" (oldest {age:.0f} s)" if age is not None else "")
               + (f", {len(witnesses)} witness(es) matched" if witnesses else ""))


@audit.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print the head as one JSON object.")
@with_appcontext
def head_command(as_json: bool) -> None:
    """Print the latest checkpoint's tree size and root (hex)."""
    latest = audit_proof.latest()
    size, root = (latest.tree_size, latest.root_hash) if latest else (0, audit_seal.EMPTY_ROOT)
    created = latest.created_at.isoformat(timespec="seconds") if latest else None
    if as_json:
        click.echo(json.dumps({"tree_size": size, "root_hash": root, "created_at": created}))
    else:
        click.echo(f"tree size {size} root {root} at {created or '-'}")


@audit.command("checkpoint")
@with_appcontext
def checkpoint_command() -> None:
    """Print the latest signed checkpoint (a C2SP signed note) for a witness to keep."""
    latest = audit_proof.latest()
    if latest is None:
        refuse("no checkpoint yet: run `idp audit seal`")
    click.echo(latest.note, nl=False)


@audit.command("prove")
@click.argument("seq", type=click.IntRange(min=1))
@with_appcontext
def prove_command(seq: int) -> None:
    """Print the inclusion proof of the event at SEQ (leaf index SEQ - 1) in the latest
    checkpoint, as JSON."""
    try:
        click.echo(json.dumps(audit_proof.inclusion(seq)))
    except audit_proof.NoSuchCheckpoint as missing:
        refuse(str(missing))


@audit.command("consistency")
@click.argument("old", type=click.IntRange(min=1))
@click.argument("new", type=click.IntRange(min=1))
@with_appcontext
def consistency_command(old: int, new: int) -> None:
    """Print the proof that the checkpoint of tree size OLD is a prefix of that of size NEW,
    with both signed notes, as JSON."""
    try:
        click.echo(json.dumps(audit_proof.consistency(old, new)))
    except audit_proof.NoSuchCheckpoint as missing:
        refuse(str(missing))


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


def _broken_line(report: LogReport) -> str:
    where = f"seq {report.bad_seq}" if report.bad_seq is not None else "the log"
    row = f" (event id {report.bad_row_id})" if report.bad_row_id is not None else ""
    return (f"audit log broken at {where}{row}: {report.reason}: {report.detail}; "
            f"{report.events_checked} events verified")
