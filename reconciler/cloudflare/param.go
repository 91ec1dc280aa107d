package cloudflare

import (
	"fmt"
	"reflect"
)

// set stores v in an SDK request field. The SDK's request fields are param.Field[T], whose
// package is internal to the SDK and whose only exported constructor (F) is in the SDK's
// root package, which imports every one of its ~117 service packages. Field's Value and
// Present are exported, so reflection fills them and flareops compiles only the services
// it uses. A field that is not a param.Field is a programming error, caught by the tests.
func set[F, T any](dst *F, v T) {
	f := reflect.ValueOf(dst).Elem()
	val, present := f.FieldByName("Value"), f.FieldByName("Present")
	if !val.IsValid() || !present.IsValid() {
		panic(fmt.Sprintf("cloudflare: %T is not an SDK request field", dst))
	}
	val.Set(reflect.ValueOf(v).Convert(val.Type()))
	present.SetBool(true)
}
