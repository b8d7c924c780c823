"""Opens a ferry export zip the way another tool would: Python's zipfile for the archive,
hashlib for the manifest's checksums, pyrage (age) for secrets.age.

    open_export.py ZIP        prints JSON: entries (in zip order), manifest, the names whose
                              SHA-256 or size differs from the manifest, and the decrypted
                              secrets (or the error) when EXPORT_PASSPHRASE is set, and the entries
                              holding any of EXPORT_NEEDLES (comma-separated) in plain text
"""
import hashlib
import json
import os
import sys
import zipfile

import pyrage

path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    entries = [i.filename for i in z.infolist()]
    manifest = json.loads(z.read("ferry-export.json"))
    mismatched = []
    for name, entry in manifest["files"].items():
        data = z.read(name)
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["size"]:
            mismatched.append(name)
    needles = [n.encode() for n in os.environ.get("EXPORT_NEEDLES", "").split(",") if n]
    # Entries (decompressed) holding any needle in plain text.
    found = [n for n in entries if any(x in z.read(n) for x in needles)]
    unlisted = [n for n in entries if n != "ferry-export.json" and n not in manifest["files"]]
    out = {"entries": entries, "manifest": manifest, "mismatched": mismatched, "unlisted": unlisted, "found": found}
    passphrase = os.environ.get("EXPORT_PASSPHRASE")
    if passphrase is not None and "secrets.age" in entries:
        try:
            out["secrets"] = json.loads(pyrage.passphrase.decrypt(z.read("secrets.age"), passphrase))
        except Exception as e:  # a wrong passphrase: the test asserts it does not open
            out["secretsError"] = f"{type(e).__name__}: {e}"
    if "variables.json" in entries:
        out["variables"] = json.loads(z.read("variables.json"))
print(json.dumps(out))
