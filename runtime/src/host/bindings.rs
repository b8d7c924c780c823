//! Generated bindings for the plugin worlds. All worlds of one WIT version share its `types`
//! and `host` interfaces, generated once (in `source`) and reused by the others.
//!
//! [`v0_1`] holds the bindings of the frozen 0.1 package (`wit/v0.1`), which the host still
//! loads through one adapter ([`super::v0_1`]).

pub mod source {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "ferry:plugin/source-plugin@0.2.0",
        exports: { default: async },
    });
}

/// Generates a world of the 0.2 package that reuses `source`'s `types` and `host`.
macro_rules! world {
    ($module:ident, $world:literal) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../wit",
                world: $world,
                exports: { default: async },
                with: {
                    "ferry:plugin/types": super::source::ferry::plugin::types,
                    "ferry:plugin/host": super::source::ferry::plugin::host,
                },
            });
        }
    };
}

world!(parser, "ferry:plugin/parser-plugin@0.2.0");
world!(file_parser, "ferry:plugin/file-parser-plugin@0.2.0");
world!(predictor, "ferry:plugin/predictor-plugin@0.2.0");
world!(deployer, "ferry:plugin/deployer-plugin@0.2.0");

pub mod described {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "ferry:plugin/described@0.2.0",
        exports: { default: async },
        with: { "ferry:plugin/types": super::source::ferry::plugin::types },
    });
}

pub use source::ferry::plugin::{host as host_api, types as wit};

/// The frozen 0.1 package.
pub mod v0_1 {
    pub mod source {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "ferry:plugin/source-plugin@0.1.0",
            exports: { default: async },
        });
    }

    pub mod parser {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "ferry:plugin/parser-plugin@0.1.0",
            exports: { default: async },
            with: {
                "ferry:plugin/types": super::source::ferry::plugin::types,
                "ferry:plugin/host": super::source::ferry::plugin::host,
            },
        });
    }

    pub mod predictor {
        wasmtime::component::bindgen!({
            path: "../wit/v0.1",
            world: "ferry:plugin/predictor-plugin@0.1.0",
            exports: { default: async },
            with: {
                "ferry:plugin/types": super::source::ferry::plugin::types,
                "ferry:plugin/host": super::source::ferry::plugin::host,
            },
        });
    }

    pub use source::ferry::plugin::{host as host_api, types as wit};
}
