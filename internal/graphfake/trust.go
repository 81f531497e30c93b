package graphfake

import (
	"os"
	"path/filepath"
)

// TrustEmulator makes this process trust the emulator's TLS certificate
// through SSL_CERT_FILE, as a user behind a TLS-inspecting proxy would
// trust the proxy's. It must run before the process's first TLS
// connection; every emulator serves the same certificate.
func TrustEmulator() (undo func(), err error) {
	probe := New(Config{})
	pem := probe.CertificatePEM()
	probe.Close()
	dir, err := os.MkdirTemp("", "graphfake-ca")
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "emulator.pem")
	if err := os.WriteFile(file, pem, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	os.Setenv("SSL_CERT_FILE", file)
	return func() { os.RemoveAll(dir) }, nil
}

// RunTrusted runs a test binary's tests with the emulator trusted (see
// TrustEmulator) and returns their exit code; TestMain functions call it.
func RunTrusted(m interface{ Run() int }) int {
	undo, err := TrustEmulator()
	if err != nil {
		panic(err)
	}
	defer undo()
	return m.Run()
}
