package emulator

// queuesState is the Queues family's part of the store. (stub: to be filled in)
type queuesState struct{}

func (st *queuesState) init() {}

func (s *Server) routesQueues() {}
