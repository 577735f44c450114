"""The function app's deployment package: the repository's files minus what .funcignore excludes.

Azure/functions-action ships the folder it is given as it is (``respect-funcignore`` defaults to
false, and when true it deletes the ignored paths from that folder in place); azd and Core Tools
apply .funcignore themselves. So the workflow and by-hand deployments publish the folder this
script builds, which holds what azd would ship and nothing else.

The file list is git's: tracked files (``git ls-files``) minus those that .funcignore's patterns
match, with git's own .gitignore matching (``git ls-files --ignored --exclude-from``). Untracked
files are never packaged; any that are not ignored either are named, so that a new module that
was not added to git does not go missing unnoticed. Prints the package's files and total size.

    python3 infra/scripts/build_package.py OUT_DIR     (OUT_DIR must not exist or be empty)
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IGNORE_FILE = ".funcignore"
REQUIRED = ("host.json", "function_app.py", "requirements.txt")


def _git_files(*options: str) -> set[str]:
    listing = subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", "-C", str(REPO), "ls-files", "-z", *options],  # noqa: S607 - git from PATH, as any developer runs it
        capture_output=True,
        check=True,
    ).stdout.decode()
    return {name for name in listing.split("\0") if name}


def package_files() -> list[str]:
    """Tracked files that .funcignore does not exclude, sorted."""
    tracked = _git_files("--cached")
    ignored = _git_files("--cached", "--ignored", f"--exclude-from={REPO / IGNORE_FILE}")
    files = sorted(name for name in tracked - ignored if (REPO / name).is_file())
    missing = [name for name in REQUIRED if name not in files]
    if missing:
        raise SystemExit(f"build_package: the package would lack {', '.join(missing)}: check {IGNORE_FILE}")
    return files


def unpackaged_untracked_files() -> list[str]:
    """Untracked files that neither .gitignore nor .funcignore excludes (probably meant to ship)."""
    candidates = _git_files("--others", "--exclude-standard", f"--exclude-from={REPO / IGNORE_FILE}")
    return sorted(name for name in candidates if not (REPO / name).is_symlink())


def build(out: Path) -> list[tuple[str, int]]:
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"build_package: {out} is not empty; remove it first")
    entries = []
    for name in package_files():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
        entries.append((name, target.stat().st_size))
    return entries


def zipped_size(out: Path, entries: list[tuple[str, int]]) -> int:
    """Size of the folder as a deflated zip: about what the deployment uploads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, _ in entries:
            archive.write(out / name, name)
    return buffer.getbuffer().nbytes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create (must not exist or be empty)")
    args = parser.parse_args(argv)
    entries = build(args.out)
    for name, size in entries:
        print(f"{size:>9}  {name}")
    total = sum(size for _, size in entries)
    print(
        f"{len(entries)} files, {total} bytes ({total / 1024:.1f} KiB) in {args.out};"
        f" zipped {zipped_size(args.out, entries)} bytes",
        flush=True,
    )
    for name in unpackaged_untracked_files():
        print(
            f"build_package: {name} is untracked and not ignored, so it is NOT in the package",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
