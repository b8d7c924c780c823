"""The component's entry module (`componentize-py ... componentize app`): the world, and the
`about` interface, whose functions componentize-py calls on an instance of `About`."""

import wit_world
from wit_world import exports

import parser  # noqa: F401  (the `parser` interface's resource, imported while building)
import {{module}} as plugin


class WitWorld(wit_world.WitWorld):
    pass


class About(exports.About):
    def describe(self):
        return plugin.describe()
