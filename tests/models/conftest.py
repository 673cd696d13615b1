import pytest

from clv.datasets import load_cdnow, load_donations
from clv.features import rfm_summary


@pytest.fixture(scope="session")
def cdnow():
    return rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")


@pytest.fixture(scope="session")
def cdnow_repeat(cdnow):
    return cdnow[cdnow["frequency"] > 0]


@pytest.fixture(scope="session")
def donations():
    return load_donations()
