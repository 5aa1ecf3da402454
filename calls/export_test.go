package calls

// DecodeRoutedForTest decodes a routed request (for the fuzz test).
func DecodeRoutedForTest(data []byte) error {
	_, err := decodeRouted(data)
	return err
}
