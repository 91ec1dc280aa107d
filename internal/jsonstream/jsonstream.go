// Package jsonstream has the helpers flareops uses to walk large JSON documents (the queue
// list, the state) token by token with encoding/json's Decoder, so that they are decoded a
// piece at a time instead of being held whole.
package jsonstream

import (
	"encoding/json"
	"fmt"
)

// Delim reads the next token and checks it is the delimiter want.
func Delim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// OpenOrNull reads the next token: the opening delimiter want ('{' or '['), or null, for
// which null is true.
func OpenOrNull(dec *json.Decoder, want json.Delim) (null bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	if tok == nil {
		return true, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return false, fmt.Errorf("want %q or null, got %v", want, tok)
	}
	return false, nil
}
