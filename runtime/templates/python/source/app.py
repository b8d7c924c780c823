"""The component's entry module (`componentize-py ... componentize app`): the world, and the
exported interfaces, whose functions componentize-py calls on an instance of the class named
after each (`About`, `Source`)."""

import wit_world
from ferry_guest import Settings, guard
from wit_world import exports
from wit_world.exports import source

import {{module}} as plugin


class WitWorld(wit_world.WitWorld):
    pass


class About(exports.About):
    def describe(self):
        return plugin.describe()


def config():
    # A bad setting fails the call, naming it.
    return plugin.from_settings(Settings.load(plugin.SETTINGS))


class Source(exports.Source):
    @guard
    def list_objects(self, prefix, cursor):
        objects, next_cursor = plugin.list_page(config(), prefix, cursor)
        return source.ListPage(objects=objects, next_cursor=next_cursor)

    @guard
    def read(self, key, offset, len):
        return plugin.read(config(), key, offset, len)
