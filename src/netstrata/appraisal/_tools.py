"""Appraisal tools as data: load the TOML definitions in ``tools/`` and walk their decision trees."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import DataError, Problem

__all__ = ["Node", "Domain", "load_tool", "walk_domain", "worst"]


@dataclass(frozen=True, slots=True)
class Node:
    """One signalling question in a decision tree: answer -> next node id or a judgement."""

    question: str
    branches: dict


@dataclass(frozen=True, slots=True)
class Domain:
    key: str
    label: str
    name: str
    questions: dict
    start: tuple
    nodes: dict


def _node(raw: dict, answers: tuple, where: str) -> Node:
    branches = {}
    for group, target in raw.items():
        if group == "question":
            continue
        for a in group.split("/"):
            if a not in answers or a in branches:
                raise ValueError(f"{where}: bad or repeated answer {a!r} in branch {group!r}")
            branches[a] = target
    return Node(raw["question"], branches)


def _domain(key: str, raw: dict, answers: tuple, judgements: tuple) -> Domain:
    nodes = {nid: _node(n, answers, f"{key}.{nid}") for nid, n in raw["nodes"].items()}
    for nid, node in nodes.items():
        if node.question not in raw["questions"]:
            raise ValueError(f"{key}.{nid}: question {node.question!r} is not declared")
        for target in node.branches.values():
            if target not in nodes and target not in judgements:
                raise ValueError(f"{key}.{nid}: branch target {target!r} is neither a node nor a judgement")
    for s in raw["start"]:
        if s not in nodes:
            raise ValueError(f"{key}: start node {s!r} missing")
    return Domain(key, raw.get("label", key), raw["name"], dict(raw["questions"]), tuple(raw["start"]), nodes)


@lru_cache(maxsize=None)
def load_tool(name: str) -> dict:
    """Parse and check ``tools/<name>.toml``; decision trees become :class:`Domain` objects."""
    text = resources.files("netstrata.appraisal").joinpath("tools", f"{name}.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    if "domains" in raw and isinstance(raw["domains"], dict):
        answers, judgements = tuple(raw["answers"]), tuple(raw["judgements"])
        raw["domains"] = {k: _domain(k, d, answers, judgements) for k, d in raw["domains"].items()}
    return raw


def worst(judgements, order) -> str:
    """The worst judgement under a best -> worst ordering."""
    return max(judgements, key=list(order).index)


def walk_domain(domain: Domain, answers: dict, order, *, study: str = "") -> tuple[str, tuple[str, ...]]:
    """Follow the decision tree with the given answers; return (judgement, path of 'q=answer').

    Raises DataError when a question on the path is unanswered or has an answer that the
    tree does not accept at that point (e.g. 'NA' to a question that applies).
    """
    results, path = [], []
    for start in domain.start:
        node_id = start
        for _ in range(len(domain.nodes) + 1):          # trees are acyclic: bounded walk
            if node_id not in domain.nodes:
                break
            node = domain.nodes[node_id]
            answer = answers.get(node.question)
            if answer not in node.branches:
                allowed = "/".join(node.branches)
                what = "unanswered" if answer is None else f"answer {answer!r} not allowed here"
                raise DataError(Problem(f"{domain.label} signalling question {node.question}: {what}",
                                        study=study or None, column=node.question, found=answer,
                                        expected=allowed))
            path.append(f"{node.question}={answer}")
            node_id = node.branches[answer]
        results.append(node_id)
    return worst(results, order), tuple(path)
