"""The function's bytecode, compiled into its package (`portail package`).

Lambda runs the package from a read-only directory: Python cannot write the `__pycache__`
it would keep elsewhere, so without bytecode in the zip every cold start compiles each
module it imports from its source again (the portal's own 70 modules alone were about
100 ms of a cold start: docs/architecture.md, « Cold start »). The bytecode is compiled
here by the Python that makes the package, the runtime's own version
(`deploy.check_package` refuses any other), as « unchecked-hash » files: used as they
are, without comparing the source's date, which unzipping does not keep reliably.
"""

from __future__ import annotations

import importlib.util
import py_compile
import shutil
import tempfile
import zipfile
from pathlib import Path

# Of the packaged libraries, those the function imports on a cold start or a parent's
# first requests are compiled; the others (reportlab and Pillow for PDFs, icalendar for
# calendar feeds, markdown...) are imported by rarer work and stay source only, keeping
# the zip small and `portail package` quick.
PACKAGES = ("app.py", "chalicelib/", "chalice/", "six.py", "jinja2/", "markupsafe/", "babel/", "argon2/", "_argon2_cffi_bindings/",
            "cffi/", "dateutil/", "holidays/", "vacances_scolaires_france/", "rsa/", "pyasn1/")


def compiled_name(source: str) -> str:
    """chalicelib/config.py → chalicelib/__pycache__/config.cpython-311.pyc"""
    return importlib.util.cache_from_source(source)


def add_bytecode(zip_path: Path) -> int:
    """Adds to `zip_path` the bytecode of its modules named by PACKAGES; returns how many."""
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        sources = [name for name in sorted(names) if name.endswith(".py") and name.startswith(PACKAGES)
                   and compiled_name(name) not in names]
    added = 0
    with tempfile.TemporaryDirectory(prefix="portail-bytecode-") as temporary, \
            zipfile.ZipFile(zip_path, "a", zipfile.ZIP_DEFLATED) as archive:
        work = Path(temporary)
        for name in sources:
            source, target = work / "module.py", work / "module.pyc"
            with archive.open(name) as packaged, source.open("wb") as copy:
                shutil.copyfileobj(packaged, copy)
            try:
                py_compile.compile(str(source), cfile=str(target), dfile=name, doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            except py_compile.PyCompileError:
                continue  # a file Python never imports (a template, an example): left as it is
            archive.write(target, compiled_name(name))
            added += 1
    return added
