"""Column types shared by the models."""

import enum

from sqlalchemy import BigInteger, Enum, Integer

# 64-bit keys for 100 million accounts; SQLite only auto-increments INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer, "sqlite")


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR + CHECK storing the enum's values, not its names."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
