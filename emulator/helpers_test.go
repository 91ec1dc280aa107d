package emulator_test

import (
	"reflect"

	"github.com/cloudflare/cloudflare-go/v6/queues"
)

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

// queueList and queueNew build the Queues request params the core tests send.
func queueList(account string) queues.QueueListParams {
	var p queues.QueueListParams
	setField(&p.AccountID, account)
	return p
}

func queueNew(account, name string) queues.QueueNewParams {
	var p queues.QueueNewParams
	setField(&p.AccountID, account)
	setField(&p.QueueName, name)
	return p
}
