from __future__ import annotations

import pytest

from tests.contracts.evm import ContractChain


@pytest.fixture(scope="session")
def contract_chain() -> ContractChain:
    """Deployed once per test process (py-evm is slow); each test starts from its snapshot."""
    return ContractChain()


@pytest.fixture
def chain(contract_chain: ContractChain) -> ContractChain:
    contract_chain.reset()
    return contract_chain
