package emulator

// containersState is the Containers family's part of the store. (stub: to be filled in)
type containersState struct{}

func (st *containersState) init() {}

func (s *Server) routesContainers() {}
