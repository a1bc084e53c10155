"""The fakes of csta_connector.testing provide the interfaces they stand in for."""

from zope.interface.verify import verifyObject

from csta_connector.interfaces import ICSTAServices
from csta_connector.testing import FakeServices


def test_fake_services_provide_icstaservices():
    assert verifyObject(ICSTAServices, FakeServices())
