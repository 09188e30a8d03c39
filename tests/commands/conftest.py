"""Fixtures of the command tests: run a command and capture its output, check the mptt tree."""

from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Category


class Output:
    def __init__(self, out: str, err: str):
        self.out, self.err = out, err

    @property
    def summary(self) -> str:
        """The last line of stdout: every command ends with a summary."""
        return self.out.strip().splitlines()[-1]


@pytest.fixture
def run(db):
    """`run("import_catalog", path, "--dry-run")` -> Output(out, err); raises what the command raises."""

    def call(*args, **kwargs) -> Output:
        out, err = StringIO(), StringIO()
        call_command(*args, stdout=out, stderr=err, **kwargs)
        return Output(out.getvalue(), err.getvalue())

    return call


def assert_tree_sound() -> None:
    """Every tree's mptt numbers are contiguous and agree with the parent links."""
    nodes = {c.pk: c for c in Category.all_objects.all()}
    trees = defaultdict(list)
    for node in nodes.values():
        trees[node.tree_id].append(node)
    for tree_id, members in trees.items():
        numbers = sorted([n.lft for n in members] + [n.rght for n in members])
        assert numbers == list(range(1, 2 * len(members) + 1)), f"tree {tree_id} has gaps or overlaps"
        assert sum(1 for n in members if n.parent_id is None) == 1, f"tree {tree_id} needs exactly one root"
        for node in members:
            if node.parent_id is None:
                assert node.level == 0 and node.lft == 1
                continue
            parent = nodes[node.parent_id]
            assert parent.tree_id == tree_id
            assert parent.lft < node.lft < node.rght < parent.rght, node.path
            assert node.level == parent.level + 1, node.path
            assert node.path == f"{parent.path}/{node.name}"
