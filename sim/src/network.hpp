// The simulated network between the peers of each connection: latency, segmentation at any octet,
// the faults of a scenario (reset, stall, truncate) and closes. Bytes are never dropped from the
// middle of a stream and each direction delivers in the order it was sent. What arrives goes to the
// Receiver (the run, which hands it to the peer).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "tlschan/sim/run_observer.hpp"
#include "tlschan/sim/event_loop.hpp"
#include "tlschan/sim/prng.hpp"
#include "tlschan/sim/scenario.hpp"
#include "transcript_writer.hpp"

namespace tlschan::sim::detail {

class Network {
 public:
  struct Receiver {
    virtual void segment_arrived(Connection& c, bool c2s, const std::string& seg) = 0;
    virtual void close_arrived(Connection& c, bool c2s) = 0;  // the sender of direction c2s closed
    virtual void reset_arrived(Connection& c) = 0;            // both sides see the connection reset

   protected:
    ~Receiver() = default;
  };

  Network(EventLoop& loop, Prng prng, const NetworkSpec& spec, const std::vector<FaultSpec>& faults,
          TranscriptWriter& transcript, Receiver& receiver, RunObserver* observer = nullptr)
      : loop_(loop), prng_(prng), spec_(spec), faults_(faults), transcript_(transcript), receiver_(receiver),
        observer_(observer) {}

  Duration draw_latency();
  void open(Connection& c);  // the connection's lanes
  // Sends bytes one way (`atomic`: as one segment), through the connection's fault if it has one.
  void send(Connection& c, bool c2s, std::string_view bytes, bool atomic);
  void send_close(Connection& c, bool c2s);
  // A meddler's own answer to the client, outside the stream the server sends: plaintext, after
  // one latency.
  void answer_client(Connection& c, std::string answer, std::string meddled = {});

 private:
  const FaultSpec* fault_for(const Connection& c, bool c2s) const;
  void segment(Connection& c, bool c2s, std::string_view bytes, bool atomic);
  Time arrival(Pipe& p);
  void deliver_later(Connection& c, bool c2s, std::string_view seg);
  void arrive(Connection& c, bool c2s, std::size_t n);
  void reset(Connection& c);

  EventLoop& loop_;
  Prng prng_;
  const NetworkSpec& spec_;
  const std::vector<FaultSpec>& faults_;
  TranscriptWriter& transcript_;
  Receiver& receiver_;
  RunObserver* observer_;
  std::string note_;  // what a meddler did to the segment being delivered
  std::string segment_;  // the segment being delivered
};

}  // namespace tlschan::sim::detail
