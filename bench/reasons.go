package bench

// Reasons of the errors a bench run refuses its configuration with.
const (
	ReasonUnknownScenario     = "unknown_scenario"      // CodeInvalid: no scenario of that name
	ReasonParticipants        = "participants"          // CodeInvalid: a call needs at least 2 participants
	ReasonClusterNeedsServers = "cluster_needs_servers" // CodeInvalid: the cluster scenario needs --postgres and --nats
	ReasonClusterNodes        = "cluster_nodes"         // CodeInvalid: the cluster scenario needs at least 2 nodes
)
