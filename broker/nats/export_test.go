package nats

// crash closes the NATS connection without the goodbye Close sends, as a
// node killed with SIGKILL would.
func (b *Broker) crash() {
	b.closeOnce.Do(func() {
		close(b.stop)
		b.nc.Close()
		b.wg.Wait()
	})
}

// Crash is crash for the external tests.
func Crash(b *Broker) { b.crash() }
