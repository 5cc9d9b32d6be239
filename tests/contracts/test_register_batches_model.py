"""CopyrightRegister against a Python model: random batches (with duplicates, parents that are
unknown, earlier in the same batch or already registered) give the same counts, lookups, children
and revert reasons."""

import ape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from register_support import make_register_item, register_id

POOL = [f"image {n}".encode() for n in range(6)]
POOL_IDS = [register_id(make_register_item(data)) for data in POOL]

item_specs = st.tuples(
    st.integers(0, len(POOL) - 1),  # which file
    st.one_of(st.just(None), st.integers(0, len(POOL) - 1)),  # parent: none, or one of the pool
    st.integers(0, 2**64 - 1),  # phash
)
batches = st.lists(st.lists(item_specs, min_size=1, max_size=5), min_size=1, max_size=4)


class RegisterModel:
    def __init__(self):
        self.records = {}  # id -> (owner, phash, parent)
        self.children = {}  # id -> [child ids]

    def apply(self, owner, items):
        """The revert reason the contract must give, or None after applying the batch."""
        records = dict(self.records)
        children = {key: list(value) for key, value in self.children.items()}
        for item in items:
            id_, parent = register_id(item), item["parent"]
            if id_ in records:
                return "register: already registered"
            if parent != 0:
                if parent == id_:
                    return "register: a work cannot be its own parent"
                if parent not in records:
                    return "register: unknown parent"
                children.setdefault(parent, []).append(id_)
            records[id_] = (owner, item["phash"], parent)
        self.records, self.children = records, children
        return None


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches)
def test_register_batch__random_batches__match_the_model(deploy_register, creator, other, batches):
    register = deploy_register()
    model = RegisterModel()
    for number, batch in enumerate(batches):
        owner = (creator, other)[number % 2]
        items = [
            make_register_item(POOL[file], phash=phash, parent=0 if parent is None else POOL_IDS[parent])
            for file, parent, phash in batch
        ]
        expected_error = model.apply(owner.address, items)
        if expected_error:
            with ape.reverts(expected_error):
                register.register_batch(items, sender=owner)
        else:
            register.register_batch(items, sender=owner)

    assert register.registration_count() == len(model.records)
    for id_ in POOL_IDS:
        record = register.registration(id_)
        if id_ in model.records:
            assert (record.owner, record.phash, record.parent) == model.records[id_]
        else:
            assert record.owner == "0x0000000000000000000000000000000000000000"
        assert register.children(id_, 0, 100) == model.children.get(id_, [])
