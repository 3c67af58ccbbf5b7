"""Assets and universes: the registry, inference of unknown symbols, validation, costs."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.universe import (
    DEFAULT_COSTS,
    DEFAULT_SCHEDULES,
    REGISTRY,
    RWA_PROXIES,
    Asset,
    Universe,
    make_asset,
)


def test_registry_assets_follow_the_model_defaults() -> None:
    # The model's example: crypto 0.1%, RWA 1%, stablecoin 0.05%.
    assert dict(DEFAULT_COSTS) == {"crypto": 0.001, "rwa": 0.01, "stable": 0.0005, "cash": 0.0}
    for a in REGISTRY.values():
        assert a.cost == DEFAULT_COSTS[a.asset_class]
        assert a.effective_schedule == DEFAULT_SCHEDULES[a.asset_class]
    assert make_asset("BTC-USD").calendar == "24/7" and make_asset("VNQ").calendar == "XNYS"
    assert make_asset("PAXG-USD").asset_class == "rwa" and make_asset("PAXG-USD").trades_24_7
    for kind, symbols in RWA_PROXIES.items():
        assert all(REGISTRY[s].proxies == kind for s in symbols)


def test_unknown_symbols_are_inferred_from_their_name() -> None:
    coin = make_asset("DOGE-USD")
    assert (coin.asset_class, coin.calendar, coin.cost) == ("crypto", "24/7", 0.001)
    fund = make_asset("XYZ")
    assert (fund.asset_class, fund.calendar, fund.cost) == ("rwa", "XNYS", 0.01)
    assert make_asset("vnq").symbol == "vnq" and make_asset("vnq").asset_class == "rwa"


def test_overrides_replace_fields_and_a_new_class_takes_its_default_cost() -> None:
    a = make_asset("BTC-USD", cost=0.002, schedule="weekly")
    assert a.cost == 0.002 and a.effective_schedule == "weekly"
    b = make_asset("XYZ", asset_class="stable")
    assert b.cost == DEFAULT_COSTS["stable"]
    with pytest.raises(ConfigError, match="colour"):
        make_asset("BTC-USD", colour="red")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"symbol": "", "asset_class": "crypto", "cost": 0.001}, "symbol"),
        ({"symbol": "X", "asset_class": "bond", "cost": 0.001}, "asset_class"),
        ({"symbol": "X", "asset_class": "rwa", "cost": -0.1}, "cost"),
        ({"symbol": "X", "asset_class": "rwa", "cost": 1.0}, "cost"),
        ({"symbol": "X", "asset_class": "rwa", "cost": float("nan")}, "cost"),
    ],
)
def test_asset_validation_names_the_field(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Asset(**kwargs)


def test_universe_from_symbols_keeps_order_and_costs() -> None:
    u = Universe.from_symbols(["VNQ", "BTC-USD", "USDT-USD"], costs={"VNQ": 0.008})
    assert u.symbols == ["VNQ", "BTC-USD", "USDT-USD"] and len(u) == 3
    np.testing.assert_array_equal(u.costs, [0.008, 0.001, 0.0005])
    assert u.classes == ["rwa", "crypto", "stable"]
    assert u["BTC-USD"].name == "Bitcoin"
    with pytest.raises(KeyError):
        u["ETH-USD"]
    rows = u.to_dict()
    assert rows[0]["symbol"] == "VNQ" and rows[0]["cost"] == 0.008
    assert rows[0]["schedule"] == "weekly"


def test_universe_does_not_mutate_its_inputs_and_rejects_bad_ones() -> None:
    overrides = {"BTC-USD": {"schedule": "weekly"}}
    Universe.from_symbols(["BTC-USD"], overrides=overrides)
    assert overrides == {"BTC-USD": {"schedule": "weekly"}}
    with pytest.raises(ConfigError, match="not in the universe"):
        Universe.from_symbols(["BTC-USD"], costs={"VNQ": 0.01})
    with pytest.raises(ConfigError, match="duplicate"):
        Universe.from_symbols(["BTC-USD", "BTC-USD"])
    with pytest.raises(ConfigError, match="at least one"):
        Universe(())
    with pytest.raises(ConfigError, match="tuple of Asset"):
        Universe([make_asset("VNQ")])  # type: ignore[arg-type]
