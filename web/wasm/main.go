//go:build js && wasm

// Command wasm is the browser build of the converter (GOOS=js
// GOARCH=wasm). It installs a global `pspMigrate` object whose functions
// the page (web/static/app.js) calls, then waits forever: the page calls
// back into it until it is closed.
//
//	pspMigrate.version()                    -> "v0.1.0"
//	pspMigrate.engines()                    -> JSON array of engine names
//	pspMigrate.examples()                   -> JSON array of {name, yaml}
//	pspMigrate.convert(requestJSON)         -> JSON bridge.Response
//	pspMigrate.zip(requestJSON)             -> Uint8Array, or a string error
package main

import (
	"encoding/json"
	"syscall/js"

	"github.com/psp-migrate/kubectl-psp-migrate/web/bridge"
)

// version is set with -ldflags -X main.version, as the CLI's is, so that
// the page stamps the same version into the objects.
var version = "dev"

func main() {
	js.Global().Set("pspMigrate", exports())
	// The page learns the converter is ready from this callback, if it set one.
	if ready := js.Global().Get("pspMigrateReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// exports is the object the page calls.
func exports() js.Value {
	obj := js.Global().Get("Object").New()
	obj.Set("version", js.FuncOf(func(js.Value, []js.Value) any { return version }))
	obj.Set("engines", js.FuncOf(func(js.Value, []js.Value) any { return toJSON(bridge.Engines()) }))
	obj.Set("examples", js.FuncOf(func(js.Value, []js.Value) any { return toJSON(bridge.Examples()) }))
	obj.Set("convert", js.FuncOf(func(_ js.Value, args []js.Value) any {
		req, errResp := request(args)
		if errResp != "" {
			return errResp
		}
		return toJSON(bridge.Convert(req))
	}))
	obj.Set("zip", js.FuncOf(func(_ js.Value, args []js.Value) any {
		req, errResp := request(args)
		if errResp != "" {
			return errResp
		}
		resp := bridge.Convert(req)
		if resp.Error != nil {
			return resp.Error.Message
		}
		b, err := bridge.Zip(resp)
		if err != nil {
			return err.Error()
		}
		arr := js.Global().Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(arr, b)
		return arr
	}))
	return obj
}

// request decodes the page's JSON request; on failure it returns the
// response that says why.
func request(args []js.Value) (bridge.Request, string) {
	var req bridge.Request
	if len(args) != 1 || args[0].Type() != js.TypeString {
		return req, toJSON(bridge.Response{Version: version, Error: &bridge.InputError{Message: "pspMigrate: want one JSON string argument"}})
	}
	if err := json.Unmarshal([]byte(args[0].String()), &req); err != nil {
		return req, toJSON(bridge.Response{Version: version, Error: &bridge.InputError{Message: "pspMigrate: bad request: " + err.Error()}})
	}
	req.Version = version
	return req, ""
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain strings and structs of them are marshalled here.
		b, _ = json.Marshal(bridge.Response{Version: version, Error: &bridge.InputError{Message: err.Error()}})
	}
	return string(b)
}
