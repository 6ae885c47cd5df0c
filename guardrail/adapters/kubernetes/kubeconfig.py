"""Kubeconfig as kubectl reads it: `--kubeconfig FILE`, else $KUBECONFIG (a list of files, merged), else
~/.kube/config; the named context, else the current one.

kubectl merges a list of files first-one-wins, for every named cluster, user and context, and for
`current-context` too (the official Python client lets the last file's current-context win, so guardrail
picks the context itself). Every problem is a BadInputError naming the context and the files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import Configuration
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

from guardrail.core.errors import BadInputError

DEFAULT_KUBECONFIG = "~/.kube/config"


@dataclass(frozen=True)
class KubeContext:
    """A context resolved from the kubeconfig: its name, its client settings and default namespace."""

    name: str
    configuration: Configuration
    namespace: str
    files: tuple[str, ...]


def kubeconfig_files(kubeconfig: str | None, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The files kubectl would read, in its order. Raises BadInputError when there is none to read."""
    if kubeconfig:
        path = os.path.expanduser(kubeconfig)
        if not Path(path).is_file():
            raise BadInputError(f"kubeconfig {kubeconfig}: no such file")
        return (path,)
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths = [os.path.expanduser(p) for p in listed.split(os.pathsep) if p]
        existing = tuple(p for p in paths if Path(p).is_file())
        if not existing:
            raise BadInputError(f"KUBECONFIG={listed}: none of its files exists")
        return existing
    default = os.path.expanduser(DEFAULT_KUBECONFIG)
    if not Path(default).is_file():
        raise BadInputError(f"no kubeconfig: {DEFAULT_KUBECONFIG} does not exist (give --kubeconfig or set KUBECONFIG)")
    return (default,)


def load_context(context: str | None, kubeconfig: str | None, environ: Mapping[str, str] | None = None) -> KubeContext:
    """The client settings of `context` (else the current context) from the kubeconfig files.

    Raises BadInputError when a file is not a kubeconfig, when the context is not in any file, or when its
    cluster or user entry is unusable; the message names the context and the files.
    """
    files = kubeconfig_files(kubeconfig, os.environ if environ is None else environ)
    where = ", ".join(files)
    try:
        merger = KubeConfigMerger(os.pathsep.join(files))
    except (yaml.YAMLError, ConfigException, OSError) as exc:
        raise BadInputError(f"kubeconfig {where}: not a readable kubeconfig ({_first_line(exc)})") from exc
    name = context or _current_context(files, merger.config_files)
    if name is None:
        raise BadInputError(f"kubeconfig {where}: no current-context is set; give --context")
    if name not in _context_names(merger.config):
        raise BadInputError(f"context {name!r} is not in kubeconfig {where}")
    configuration = Configuration()
    try:
        loader = KubeConfigLoader(config_dict=merger.config, active_context=name, config_base_path=None)
        loader.load_and_set(configuration)
    except (ConfigException, KeyError, ValueError, OSError) as exc:
        raise BadInputError(f"context {name!r} in kubeconfig {where}: {_first_line(exc)}") from exc
    return KubeContext(name, configuration, _namespace(loader.current_context), files)


def _current_context(files: Sequence[str], configs: Mapping[str, Any]) -> str | None:
    # kubectl: the first file that sets current-context decides it.
    for path in files:
        config = configs.get(path)
        value = config.get("current-context") if isinstance(config, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return None


def _context_names(config: Any) -> set[str]:
    contexts = config.value.get("contexts") if config is not None else None
    return {str(entry["name"]) for entry in contexts or () if "name" in entry}


def _namespace(context: Any) -> str:
    settings = context.get("context") if isinstance(context, Mapping) else None
    namespace = settings.get("namespace") if isinstance(settings, Mapping) else None
    return namespace if isinstance(namespace, str) and namespace else "default"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
