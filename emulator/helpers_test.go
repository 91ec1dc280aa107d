package emulator_test

import "reflect"

// setField stores v in an SDK request field. Request fields are param.Field[T], a type
// internal to the SDK that only the root package's F builds; its Value and Present are
// exported, so reflection sets them and the family tests need not import the root
// package (which pulls in every service of the SDK).
func setField[F, T any](dst *F, v T) {
	f := reflect.ValueOf(dst).Elem()
	val := f.FieldByName("Value")
	val.Set(reflect.ValueOf(v).Convert(val.Type()))
	f.FieldByName("Present").SetBool(true)
}
