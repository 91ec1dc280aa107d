package emulator

// alertingState is the Alerting family's part of the store. (stub: to be filled in)
type alertingState struct{}

func (st *alertingState) init() {}

func (s *Server) routesAlerting() {}
