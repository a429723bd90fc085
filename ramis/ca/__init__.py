"""The issuing CA: profiles, issuance with pkilint, CRL, OCSP (R18, R19)."""
