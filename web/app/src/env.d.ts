/** Set by vite.config.ts: the wasm client core and Go's JS glue, with ?v=<content hash>. */
declare const __WASM_URL__: string
declare const __WASM_EXEC_URL__: string
/** Size of parley.wasm in bytes (decoded), for the boot screen's progress. */
declare const __WASM_SIZE__: number

