"""The version of every fingerprint tracer makes (content and derived alike).

Bump whenever any fingerprint of the same data would change (sampling, encoding, what the
header covers). Fingerprints of different versions must never be compared.

    1  first release
"""

FINGERPRINT_VERSION = 1
