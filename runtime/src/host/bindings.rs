//! Generated bindings for the plugin worlds. All worlds share the `types` and `host`
//! interfaces, generated once (in `source`) and reused by the others.

pub mod source {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "ferry:plugin/source-plugin",
        exports: { default: async },
    });
}

pub mod parser {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "ferry:plugin/parser-plugin",
        exports: { default: async },
        with: {
            "ferry:plugin/types": super::source::ferry::plugin::types,
            "ferry:plugin/host": super::source::ferry::plugin::host,
        },
    });
}

pub mod predictor {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "ferry:plugin/predictor-plugin",
        exports: { default: async },
        with: {
            "ferry:plugin/types": super::source::ferry::plugin::types,
            "ferry:plugin/host": super::source::ferry::plugin::host,
        },
    });
}

pub mod deployer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "ferry:plugin/deployer-plugin",
        exports: { default: async },
        with: {
            "ferry:plugin/types": super::source::ferry::plugin::types,
            "ferry:plugin/host": super::source::ferry::plugin::host,
        },
    });
}

pub use source::ferry::plugin::{host as host_api, types as wit};
