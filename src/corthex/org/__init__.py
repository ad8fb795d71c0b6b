"""The organization as YAML: the packaged CORTHEX HQ org (`default.yaml`) and the loader."""

from __future__ import annotations

from corthex.org.loader import DEFAULT_ORG_PATH, OrgError, load_org, parse_org

__all__ = ["DEFAULT_ORG_PATH", "OrgError", "load_org", "parse_org"]
