#!/usr/bin/env python3
"""Check executed notebooks: no cell has an error output, and each notebook
shows at least one image.

    notebooks/check.py OUT.ipynb...

An error output is what a kernel reports for a cell that failed (GoNB: a
build error, a panic, a non-zero exit); an image is a display_data or
execute_result output holding image/png. Prints one line per notebook and
exits 1 if any fails.
"""

import json
import sys


def check(path):
    with open(path) as f:
        nb = json.load(f)
    errors, images, cells = [], 0, 0
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        cells += 1
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                errors.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            elif kind in ("display_data", "execute_result") and "image/png" in out.get("data", {}):
                images += 1
    problems = list(errors)
    if images == 0:
        problems.append("no image output")
    if cells == 0:
        problems.append("no code cell")
    return problems, images


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    failed = 0
    for path in sys.argv[1:]:
        problems, images = check(path)
        if problems:
            failed += 1
            print(f"FAIL {path}: " + "; ".join(problems))
        else:
            print(f"ok   {path}: {images} images, no errors")
    if failed:
        raise SystemExit(f"{failed} of {len(sys.argv) - 1} notebooks failed")


if __name__ == "__main__":
    main()
