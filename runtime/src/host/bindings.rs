//! Generated bindings for the plugin worlds. Both worlds share the `types` and `host`
//! interfaces, generated once (in `source`) and reused by `parser`.

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

pub use source::ferry::plugin::{host as host_api, types as wit};
